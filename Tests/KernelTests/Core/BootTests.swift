import BootFormat
import KernelABI
import Sim
import XCTest
@testable import Kernel

final class BootTests: XCTestCase {
    func testRootPDHoldsWhatTheBootAPIPromises() throws {
        let h = try KernelHarness()
        let root = h.rootPD
        // Own objects and interrupt semaphores.
        guard case .pd(let own)? = h.object(root, RootSelectors.ownPD) else { return XCTFail("no own PD") }
        XCTAssertTrue(own === root)
        guard case .ec(let ec)? = h.object(root, RootSelectors.ownEC), case .sc(let sc)? = h.object(root, RootSelectors.ownSC)
        else { return XCTFail("no own EC/SC") }
        XCTAssertTrue(sc.ec === ec)
        XCTAssertEqual(ec.context.rip, SimProgramImage.defaultBase)
        XCTAssertEqual(ec.context.rsp, AddressLayout.rootStackTop)
        XCTAssertEqual(ec.context.rdi, AddressLayout.rootBootInfo)
        for irq in 0..<UInt64(24) {
            guard case .sm(let sm)? = h.object(root, RootSelectors.interruptBase + irq) else { return XCTFail("irq \(irq)") }
            XCTAssertEqual(sm.irq, irq)
        }
        // All I/O ports, the console right.
        XCTAssertTrue(root.ioBitmap.allows(0x3f8) && root.ioBitmap.allows(0xffff))
        XCTAssertNotEqual(root.rights & Permissions.pdConsole, 0)
        h.assertInvariants("after boot")
    }

    func testRootAddressSpaceIsBuiltWithRealPageTables() throws {
        let h = try KernelHarness()
        let root = h.rootPD
        // Code: user, executable, read-only.
        let code = try XCTUnwrap(h.translate(root, SimProgramImage.defaultBase, .execute))
        XCTAssertTrue(code.user && code.executable && !code.writable)
        XCTAssertNil(h.translate(root, SimProgramImage.defaultBase, .write), "code is not writable")
        // Stack, UTCB: writable, not executable.
        let stack = try XCTUnwrap(h.translate(root, AddressLayout.rootStackTop - 8, .write))
        XCTAssertFalse(stack.executable)
        XCTAssertNil(h.translate(root, AddressLayout.rootStackTop - 8, .execute))
        XCTAssertNotNil(h.translate(root, AddressLayout.rootUTCB, .write))
        XCTAssertNil(h.translate(root, AddressLayout.rootStackTop), "nothing above the stack")
        // Boot info: read-only, holds RootBootInfo describing the window.
        XCTAssertNil(h.translate(root, AddressLayout.rootBootInfo, .write))
        let info = try XCTUnwrap(h.translate(root, AddressLayout.rootBootInfo))
        let decoded = try RootBootInfo.decode { i in (try? h.machine.memory.read64(info.physical + UInt64(i) * 8)) ?? 0 }
        XCTAssertEqual(decoded.memory, h.kernel.rootWindow)
        XCTAssertEqual(decoded.bundleAddress, SimSystem.bundleBase)
        XCTAssertEqual(decoded.ticksPerMillisecond, 100)
        // The window maps physical memory 1:1 (offset by physicalWindow), writable.
        let window = h.kernel.rootWindow[0]
        let w = try XCTUnwrap(h.translate(root, AddressLayout.physicalWindow + window.base + 0x1008, .write))
        XCTAssertEqual(w.physical, window.base + 0x1008)
        // The bundle is mapped read-only in the window.
        XCTAssertNotNil(h.translate(root, AddressLayout.physicalWindow + SimSystem.bundleBase))
        XCTAssertNil(h.translate(root, AddressLayout.physicalWindow + SimSystem.bundleBase, .write))
        // The kernel half and slot 0 are not reachable from user mode.
        XCTAssertNil(h.translate(root, 0x1000))
        let kernelView = try? h.machine.walker.translate(root: root.pageTableRoot, address: 0x1000, access: .read,
                                                         privilege: .supervisor)
        XCTAssertEqual(kernelView?.physical, 0x1000, "slot 0 identity-maps physical memory for the kernel")
        // Kernel pool pages are not in the window.
        XCTAssertNil(h.translate(root, AddressLayout.physicalWindow + root.pageTableRoot))
    }

    private func configuration(_ h: KernelHarness) -> BootConfiguration { h.system.configuration }

    private func bootError(_ configuration: BootConfiguration, on h: KernelHarness) -> BootError? {
        do {
            _ = try Kernel(platform: h.system.platform, configuration: configuration)
            return nil
        } catch { return error }
    }

    func testBadConfigurationsAreClearBootErrors() throws {
        let h = try KernelHarness()
        var c = configuration(h)
        c.ticksPerMillisecond = 0
        XCTAssertEqual(bootError(c, on: h), .zeroTimerRate)

        c = configuration(h)
        c.interruptCount = 25
        XCTAssertEqual(bootError(c, on: h), .interruptCountTooLarge(25))

        c = configuration(h)
        c.freeMemory.append(PhysicalRange(base: c.bundle.base, size: 4096))
        XCTAssertEqual(bootError(c, on: h), .overlappingMemory(PhysicalRange(base: c.bundle.base, size: 4096)))

        c = configuration(h)
        c.freeMemory = [PhysicalRange(base: 1 << 40, size: 1 << 20)]
        XCTAssertEqual(bootError(c, on: h), .memoryBeyondKernelMap(PhysicalRange(base: 1 << 40, size: 1 << 20)))

        c = configuration(h)
        c.freeMemory = [PhysicalRange(base: 4 << 20, size: 64 << 10)]
        guard case .notEnoughMemory? = bootError(c, on: h) else { return XCTFail("small memory must fail") }

        c = configuration(h)
        c.rootImage = PhysicalRange(base: c.bundle.base, size: 16) // the bundle header is not an ELF
        guard case .badRootImage(.tooShort)? = bootError(c, on: h) else { return XCTFail("short image must fail") }
        XCTAssertTrue(BootError.badRootImage(.badMagic).description.contains("root image"))
    }

    func testRootSegmentsMustLieBelowThePhysicalWindow() throws {
        let h = try KernelHarness()
        let elf = SimProgramImage.elf(programID: 1, entryCount: 1, base: AddressLayout.physicalWindow)
        try h.machine.memory.write(elf, at: 6 << 20)
        var c = configuration(h)
        c.rootImage = PhysicalRange(base: 6 << 20, size: UInt64(elf.count))
        c.freeMemory = [PhysicalRange(base: 2 << 20, size: 4 << 20)]
        XCTAssertEqual(bootError(c, on: h), .rootSegmentOutOfPlace(index: 0, virtualAddress: AddressLayout.physicalWindow))
    }
}
