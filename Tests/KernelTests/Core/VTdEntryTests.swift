import KernelABI
import XCTest
@testable import Kernel

/// The VT-d second-level entry format (Kernel/Core/VTdEntry.swift): what a PD's DMA table holds.
final class VTdEntryTests: XCTestCase {
    func testLeavesAreReadableCarryWriteAndNeverExecute() {
        let page: UInt64 = 0x1234_5000
        XCTAssertEqual(VTdEntry.leaf(page, permissions: Permissions.read, level: 0), page | 0x1)
        XCTAssertEqual(VTdEntry.leaf(page, permissions: Permissions.read | Permissions.write, level: 0), page | 0x3)
        XCTAssertEqual(VTdEntry.leaf(page, permissions: Permissions.memoryAll, level: 0), page | 0x3, "no execute bit")
        XCTAssertEqual(VTdEntry.leaf(page, permissions: Permissions.write, level: 0), page | 0x3, "read is implied")
        XCTAssertEqual(VTdEntry.leaf(0x20_0000, permissions: Permissions.read, level: 1), 0x20_0000 | 0x1 | 0x80)
        XCTAssertEqual(VTdEntry.leaf(0x4000_0000, permissions: Permissions.memoryAll, level: 2), 0x4000_0000 | 0x3 | 0x80)
    }

    func testTablesAllowReadAndWriteAndEntriesReadBack() {
        XCTAssertEqual(VTdEntry.table(0x7000), 0x7003)
        XCTAssertFalse(VTdEntry.isPresent(0))
        XCTAssertFalse(VTdEntry.isPresent(0x80), "a size bit alone maps nothing")
        for level in 0..<3 {
            for rights in [Permissions.read, Permissions.read | Permissions.write] {
                let entry = VTdEntry.leaf(0x4000_0000, permissions: rights, level: level)
                XCTAssertTrue(VTdEntry.isPresent(entry))
                XCTAssertTrue(VTdEntry.isLeaf(entry, level: level))
                XCTAssertEqual(VTdEntry.address(entry), 0x4000_0000)
                XCTAssertEqual(VTdEntry.permissions(ofLeaf: entry), rights)
            }
        }
        XCTAssertFalse(VTdEntry.isLeaf(VTdEntry.table(0x7000), level: 2))
        XCTAssertEqual(VTdEntry.address(0x4000_0000_0000_0003 | 0x8_0000_0000), 0x8_0000_0000, "bit 62 is not address")
    }
}
