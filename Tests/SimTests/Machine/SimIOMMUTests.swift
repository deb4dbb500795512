import KernelABI
import XCTest
@testable import Sim

/// The simulated IOMMU's walk, independent of the kernel: tables written by hand in VT-d format.
final class SimIOMMUTests: XCTestCase {
    func testWalkRightsAreTheAndOfEveryLevelAndLargeLeavesTranslate() throws {
        let machine = SimMachine(memorySize: 4 << 20)
        machine.installIOMMU()
        let iommu = try XCTUnwrap(machine.iommu)
        // Root 0x1000 -> PDPT 0x2000: slot 0 a 1 GiB leaf at 0 (read only), slot 1 -> PD 0x3000 read only,
        // whose slot 0 is a writable 2 MiB leaf at 0x20_0000.
        try machine.memory.write64(0x1000, 0x2000 | 3)
        try machine.memory.write64(0x2000, 0x0 | 1 | 0x80)
        try machine.memory.write64(0x2008, 0x3000 | 1)
        try machine.memory.write64(0x3000, 0x20_0000 | 3 | 0x80)
        iommu.bind(0x10, root: 0x1000)
        XCTAssertEqual(iommu.translate(0x10, 0x12_3456, write: false), 0x12_3456, "inside the 1 GiB leaf")
        XCTAssertNil(iommu.translate(0x10, 0x12_3456, write: true), "read-only leaf")
        XCTAssertEqual(iommu.translate(0x10, 0x4001_0008, write: false), 0x21_0008, "inside the 2 MiB leaf")
        XCTAssertNil(iommu.translate(0x10, 0x4001_0008, write: true), "the PD entry above it is read only")
        XCTAssertNil(iommu.translate(0x10, 0x8000_0000, write: false), "not present")
        XCTAssertNil(iommu.translate(0x10, 1 << 48, write: false))
        XCTAssertNil(iommu.translate(0x11, 0, write: false), "another device")
        XCTAssertEqual(iommu.faults.map { $0.reason },
                       [.writeNotPermitted, .writeNotPermitted, .readNotPermitted, .addressBeyondWidth, .contextNotPresent])

        // Cached until flushed: a table change alone does not reach the device.
        try machine.memory.write64(0x2000, 0)
        XCTAssertEqual(iommu.translate(0x10, 0x12_3456, write: false), 0x12_3456, "the IOTLB still has it")
        iommu.flush(root: 0x9000)
        XCTAssertNotNil(iommu.translate(0x10, 0x12_3456, write: false), "another table's flush")
        iommu.flush(root: 0x1000)
        XCTAssertNil(iommu.translate(0x10, 0x12_3456, write: false))
        // Without an IOMMU the machine's device writes reach RAM directly.
        let open = SimMachine(memorySize: 1 << 20)
        open.deviceWrite(address: 0x100, value: 9)
        XCTAssertEqual(open.deviceRead(address: 0x100), 9)
    }

    /// Interrupt remapping decoded from hand-written entries (VT-d 9.10 layout): handle lookup (with and without a
    /// subhandle), source validation, the entry cache, and every blocked case with its reason.
    func testMessagesAreRemappedThroughPresentEntriesFromTheirSourceOnly() throws {
        let machine = SimMachine(memorySize: 4 << 20)
        machine.installIOMMU(interruptRemapping: true)
        let iommu = try XCTUnwrap(machine.iommu)
        // Entry 5: present, vector 0x51, fixed, APIC id 0, SVT 1 with SID 00:02.0. Entry 6: no source validation.
        iommu.writeEntry(5, low: 1 | 0x51 << 16, high: 0x10 | 1 << 18)
        iommu.writeEntry(6, low: 1 | 0x52 << 16, high: 0)
        let window: UInt64 = 0xfee0_0000
        XCTAssertEqual(try iommu.remap(0x10, address: window | 5 << 5 | 1 << 4, data: 0x51).get(),
                       MessageInterrupt(address: window, data: 0x51 | 1 << 14), "no subhandle: the handle alone")
        XCTAssertEqual(try iommu.remap(0x10, address: window | 4 << 5 | 1 << 4 | 1 << 3, data: 1).get().data & 0xff, 0x51,
                       "handle 4 + subhandle 1")
        XCTAssertEqual(try iommu.remap(0x77, address: window | 6 << 5 | 1 << 4, data: 0).get().data & 0xff, 0x52,
                       "SVT 0 admits anyone")
        func reason(_ requester: UInt64, _ address: UInt64, _ data: UInt32 = 0) -> SimIOMMU.Reason? {
            if case .failure(let f) = iommu.remap(requester, address: address, data: data) { return f.reason }
            return nil
        }
        XCTAssertEqual(reason(0x18, window | 5 << 5 | 1 << 4), .sourceInvalid)
        XCTAssertEqual(reason(0x10, window, 0x51), .compatibilityBlocked, "compatibility format (bit 4 clear)")
        XCTAssertEqual(reason(0x10, window | 7 << 5 | 1 << 4), .entryNotPresent)
        XCTAssertEqual(reason(0x10, window | 300 << 5 | 1 << 4), .handleBeyondTable)
        XCTAssertEqual(reason(0x10, window | 5 << 5 | 1 << 4 | 1 << 3, 1 << 16), .reservedRequestBits, "subhandle's upper half")
        XCTAssertEqual(iommu.faults.last, .init(requester: 0x10, address: 5, write: true, reason: .reservedRequestBits))

        // Cached until invalidated: the unit keeps deciding by the entry it read.
        iommu.writeEntry(5, low: 0, high: 0)
        XCTAssertNotNil(try? iommu.remap(0x10, address: window | 5 << 5 | 1 << 4, data: 0).get(), "the cache still has it")
        iommu.invalidateEntry(5)
        XCTAssertEqual(reason(0x10, window | 5 << 5 | 1 << 4), .entryNotPresent)
        XCTAssertEqual(iommu.entryInvalidations, 1)

        // Through the machine: a device's write into the window is remapped before the LAPIC sees it.
        iommu.writeEntry(8, low: 1 | 0x53 << 16, high: 0x10 | 1 << 18)
        XCTAssertEqual(machine.deviceWrite(address: window | 8 << 5 | 1 << 4, value: 0, requester: 0x10), .raised(index: 3))
        XCTAssertEqual(machine.deviceWrite(address: window | 8 << 5 | 1 << 4, value: 0, requester: 0x18),
                       .ignored("blocked: interrupt remapping fault: device 00:03.0 message with handle 8: reason 0x26, "
                                + "the entry admits another requester"))
    }

    /// Random messages from random devices never crash the remapping and never get through an entry that is not
    /// present or that admits another device: each is remapped to its entry's vector or blocked with an interrupt
    /// remapping reason.
    func testRandomMessagesAreRemappedOnlyThroughTheirOwnEntries() throws {
        let machine = SimMachine(memorySize: 4 << 20)
        machine.installIOMMU(interruptRemapping: true)
        let iommu = try XCTUnwrap(machine.iommu)
        var rng = SystemRandomNumberGenerator()
        // Every fourth entry present for device 0x10 + handle % 4 (vector 0x40 + handle % 64).
        for handle in stride(from: UInt64(0), to: SimIOMMU.tableSize, by: 4) {
            iommu.writeEntry(handle, low: 1 | (0x40 + handle % 64) << 16, high: (0x10 + handle % 4) | 1 << 18)
        }
        for _ in 0..<5000 {
            let address = 0xfee0_0000 | UInt64.random(in: 0...0xf_ffff, using: &rng)
            let data = Bool.random(using: &rng) ? UInt32.random(in: 0...7, using: &rng) : UInt32.random(in: 0...UInt32.max, using: &rng)
            let requester = UInt64.random(in: 0x10...0x13, using: &rng)
            switch iommu.remap(requester, address: address, data: data) {
            case .success(let m):
                let handle = try XCTUnwrap(MessageInterrupt(address: address, data: UInt64(data)).remappableHandle)
                XCTAssertEqual(handle % 4, 0, "only present entries remap")
                XCTAssertEqual(requester, 0x10 + handle % 4, "only the entry's device")
                XCTAssertEqual(m.data & 0xff, 0x40 + handle % 64)
            case .failure(let f):
                XCTAssertTrue(f.reason.isInterruptRemapping, "\(f)")
            }
        }
    }
}
