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
}
