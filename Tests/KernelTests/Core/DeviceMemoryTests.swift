import BootFormat
import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Device memory (MMIO) the root claims (`claim_mmio`): listed in the boot information with the PCI configuration
/// windows, mapped uncached and never executable in the root's window once claimed, and uncached in every PD it is
/// delegated to whatever rights the delegation names; RAM, the platform's own registers and unaligned or foreign
/// ranges cannot be claimed, nor one page twice.
final class DeviceMemoryTests: XCTestCase {
    static let ecam = ConfigurationWindow(base: 0xb000_0000, segment: 0, startBus: 0, endBus: 255)
    static let devices = [PhysicalRange(base: 0xb000_0000, size: 0x4ec0_0000),      // ECAM and the BAR window
                          PhysicalRange(base: 0x1_0000_0000, size: 0x80_0000_0000)]  // above 4 GiB

    func harness() throws -> KernelHarness {
        try KernelHarness(memorySize: 32 << 20, deviceMemory: Self.devices, configurationWindows: [Self.ecam])
    }

    static func page(_ physical: UInt64) -> UInt64 { physical >> AddressLayout.pageShift }

    func testTheRootClaimsDeviceMemoryUncachedAndTheBootInfoSaysWhere() throws {
        let h = try harness()
        let root = h.rootPD
        XCTAssertNil(h.translate(root, AddressLayout.physicalWindow + 0xfe00_0000), "nothing is mapped before a claim")
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xfe00_0000), 4), .success)
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0x40_0000_0000), 9), .success) // 2 MiB
        let register = try XCTUnwrap(h.translate(root, AddressLayout.physicalWindow + 0xfe00_0008, .write))
        XCTAssertEqual(register.physical, 0xfe00_0008)
        XCTAssertTrue(register.uncached && !register.executable)
        XCTAssertNil(h.translate(root, AddressLayout.physicalWindow + 0xfe00_0000, .execute))
        let high = try XCTUnwrap(h.translate(root, AddressLayout.physicalWindow + 0x40_0000_1000))
        XCTAssertTrue(high.uncached)
        XCTAssertNil(h.translate(root, AddressLayout.physicalWindow + 0xfec0_0000), "what the platform kept is not given")
        let ram = try XCTUnwrap(h.translate(root, AddressLayout.physicalWindow + h.kernel.rootWindow[0].base))
        XCTAssertFalse(ram.uncached, "RAM stays cacheable")
        let info = try XCTUnwrap(h.translate(root, AddressLayout.rootBootInfo))
        let decoded = try RootBootInfo.decode { i in (try? h.machine.memory.read64(info.physical + UInt64(i) * 8)) ?? 0 }
        XCTAssertEqual(decoded.deviceMemory, Self.devices)
        XCTAssertEqual(decoded.configurationWindows, [Self.ecam])
        XCTAssertEqual(decoded.memory, h.kernel.rootWindow)
        XCTAssertEqual(root.space.memory.values.filter { $0.permissions & Permissions.device != 0 }.count, 2)
        h.assertInvariants("after claiming device memory")
    }

    func testOnlyUnheldDeviceMemoryCanBeClaimedAndOnlyByTheRoot() throws {
        let h = try harness()
        let free = h.kernel.rootWindow[0]
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(free.base), 0), .badRange, "RAM")
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xfec0_0000), 0), .badRange, "kept by the platform")
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xb000_1000), 1), .badRange, "unaligned")
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xfe00_0000), 13), .badRange, "runs past the range")
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(AddressLayout.physicalLimit), 0), .badRange)
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, UInt64.max, 63), .badRange)
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xc000_0000), 0), .success)
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xc000_0000), 1), .badSelector, "held already")
        let (_, childEC) = h.makeChild(at: 300)
        XCTAssertEqual(h.status(childEC, .claimDeviceMemory, Self.page(0xd000_0000), 0), .insufficientRights)
        // Given back with the root's own revoke, it can be claimed again.
        let window = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow >> 12) + Self.page(0xc000_0000),
                                     permissions: Permissions.memoryAll)
        XCTAssertEqual(h.status(h.rootEC, .revoke, window.word, RevokeFlags.includeSelf), .success)
        XCTAssertNil(h.translate(h.rootPD, AddressLayout.physicalWindow + 0xc000_0000))
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xc000_0000), 0), .success)
        h.assertInvariants("after claims")
    }

    func testDelegatedDeviceMemoryStaysUncachedAndRAMNeverBecomesIt() throws {
        let h = try harness()
        let (child, childEC) = h.makeChild(at: 300, quota: 300) // the 256 MiB window's tables and reservations
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(Self.ecam.base), 16), .success)
        let ecamPage = (AddressLayout.physicalWindow + Self.ecam.base) >> AddressLayout.pageShift
        // The root asks for read and write only: the child still gets device memory.
        let ecam = CapabilityRange(kind: .memory, base: ecamPage, order: 16, permissions: Permissions.read | Permissions.write)
        let target: UInt64 = 0xa0_0000_0000 >> 12
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, ecam.word, target), .returned(.success, 1 << 16, 0))
        let t = try XCTUnwrap(h.translate(child, 0xa0_0000_0000 + (1 << 20) + 0x10, .write))
        XCTAssertEqual(t.physical, Self.ecam.base + (1 << 20) + 0x10)
        XCTAssertTrue(t.uncached)
        XCTAssertEqual(child.space.memory[target]?.permissions, Permissions.read | Permissions.write | Permissions.device)
        // Passed on with the device bit dropped from the request, and with read only: still device memory.
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .object, base: 300, permissions: Permissions.all).word, 5), .success)
        XCTAssertEqual(h.call(childEC, .delegate, 5, CapabilityRange(kind: .memory, base: target, permissions: Permissions.read).word,
                              target + (1 << 16)), .returned(.success, 1, 0))
        XCTAssertEqual(child.space.memory[target + (1 << 16)]?.permissions, Permissions.read | Permissions.device)
        XCTAssertTrue(try XCTUnwrap(h.translate(child, (target + (1 << 16)) << 12)).uncached)
        // Asking for the device bit alone delegates nothing; asking for it on RAM does not make RAM uncached.
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: ecamPage, permissions: Permissions.device).word,
                              target + (2 << 16)), .returned(.success, 0, 0))
        let ram = CapabilityRange(kind: .memory, base: h.windowPage(0), permissions: Permissions.read | Permissions.device)
        XCTAssertEqual(h.call(h.rootEC, .delegate, 300, ram.word, target + (3 << 16)), .returned(.success, 1, 0))
        XCTAssertEqual(child.space.memory[target + (3 << 16)]?.permissions, Permissions.read)
        XCTAssertFalse(try XCTUnwrap(h.translate(child, (target + (3 << 16)) << 12)).uncached)
        h.assertInvariants("after delegating device memory")
        // Revoking the root's device range takes the child's mappings with it.
        XCTAssertEqual(h.status(h.rootEC, .revoke, ecam.word, 0), .success)
        XCTAssertNil(h.translate(child, 0xa0_0000_0000))
        h.assertInvariants("after revoking device memory")
    }

    func testTheCheckerCatchesACachedMappingOfDeviceMemory() throws {
        let h = try harness()
        let (child, _) = h.makeChild(at: 300)
        XCTAssertEqual(h.status(h.rootEC, .claimDeviceMemory, Self.page(0xc000_0000), 0), .success)
        let page = (AddressLayout.physicalWindow + 0xc000_0000) >> AddressLayout.pageShift
        XCTAssertEqual(h.status(h.rootEC, .delegate, 300, CapabilityRange(kind: .memory, base: page, permissions: Permissions.read).word,
                                0xa0_0000_0), .success)
        // Clear PCD/PWT in the child's 4 KiB leaf behind the kernel's back.
        let address: UInt64 = 0xa0_0000_0000
        var table = child.pageTableRoot
        for shift in [UInt64(39), 30, 21] {
            table = try h.machine.memory.read64(table + ((address >> shift) & 511) * 8) & PageTableEntry.addressMask
        }
        let slot = table + ((address >> 12) & 511) * 8
        let leaf = try h.machine.memory.read64(slot)
        XCTAssertEqual(leaf & PageTableEntry.uncached, PageTableEntry.uncached)
        try h.machine.memory.write64(slot, leaf & ~PageTableEntry.uncached)
        XCTAssertTrue(h.kernel.invariantViolations().contains { $0.contains("maps") || $0.contains("rights") },
                      "\(h.kernel.invariantViolations())")
    }

    func testBadDeviceMemoryIsAClearBootError() throws {
        let h = try KernelHarness()
        func bootError(_ change: (inout BootConfiguration) -> Void) -> BootError? {
            var c = h.system.configuration
            change(&c)
            do { _ = try Kernel(platform: h.system.platform, configuration: c); return nil } catch { return error }
        }
        let free = h.system.configuration.freeMemory[0]
        let overRAM = PhysicalRange(base: free.base, size: 4096)
        XCTAssertEqual(bootError { $0.deviceMemory = [overRAM] }, .badDeviceMemory(overRAM))
        let unaligned = PhysicalRange(base: 0xc000_0800, size: 4096)
        XCTAssertEqual(bootError { $0.deviceMemory = [unaligned] }, .badDeviceMemory(unaligned))
        let beyond = PhysicalRange(base: AddressLayout.physicalLimit - 4096, size: 8192)
        XCTAssertEqual(bootError { $0.deviceMemory = [beyond] }, .badDeviceMemory(beyond))
        let a = PhysicalRange(base: 0xd000_0000, size: 4096), b = PhysicalRange(base: 0xc000_0000, size: 4096)
        XCTAssertEqual(bootError { $0.deviceMemory = [a, b] }, .badDeviceMemory(b), "out of order")
        XCTAssertEqual(bootError { $0.deviceMemory = [PhysicalRange(base: 0xc000_0000, size: 0)] },
                       .badDeviceMemory(PhysicalRange(base: 0xc000_0000, size: 0)))
        XCTAssertEqual(bootError { $0.configurationWindows = [Self.ecam] }, .configurationWindowOutsideDeviceMemory(Self.ecam))
        let many = (0..<65).map { PhysicalRange(base: 0x1_0000_0000 + UInt64($0) << 21, size: 4096) }
        XCTAssertEqual(bootError { $0.deviceMemory = many },
                       .tooManyRanges(what: "device memory ranges", count: 65, limit: RootBootInfo.maxDeviceRegions))
        XCTAssertEqual(BootError.configurationWindowOutsideDeviceMemory(Self.ecam).description,
                       "boot: PCI configuration window segment 0 buses 0-255 at 0xb0000000 is not device memory")
    }
}
