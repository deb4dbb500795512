import KernelABI
import XCTest
@testable import Kernel

/// The EPT entry format (Kernel/Core/EPTEntry.swift): what the VMX platform's nested tables hold.
final class EPTEntryTests: XCTestCase {
    func testLeavesAlwaysReadAreWriteBackAndCarryTheCapabilityRights() {
        let page: UInt64 = 0x1234_5000
        XCTAssertEqual(EPTEntry.leaf(page, permissions: Permissions.read, level: 0), page | 0x1 | 0x30)
        XCTAssertEqual(EPTEntry.leaf(page, permissions: Permissions.read | Permissions.write, level: 0), page | 0x3 | 0x30)
        XCTAssertEqual(EPTEntry.leaf(page, permissions: Permissions.read | Permissions.execute, level: 0), page | 0x5 | 0x30)
        // Write without read does not exist in EPT (a misconfiguration): read is implied, as on x86-64.
        XCTAssertEqual(EPTEntry.leaf(page, permissions: Permissions.write, level: 0), page | 0x3 | 0x30)
        XCTAssertEqual(EPTEntry.leaf(0x4000_0000, permissions: 7, level: 2), 0x4000_0000 | 0x7 | 0x30 | 0x80)
        XCTAssertEqual(EPTEntry.leaf(0x20_0000, permissions: 7, level: 1), 0x20_0000 | 0x7 | 0x30 | 0x80)
    }

    func testTablesAllowEverythingAndEntriesReadBack() {
        XCTAssertEqual(EPTEntry.table(0x7000), 0x7007)
        XCTAssertFalse(EPTEntry.isPresent(0))
        XCTAssertFalse(EPTEntry.isPresent(0x30), "a memory type alone maps nothing")
        for level in 0..<3 {
            for rights in [Permissions.read, Permissions.read | Permissions.write, Permissions.read | Permissions.execute,
                           Permissions.read | Permissions.write | Permissions.execute] {
                let entry = EPTEntry.leaf(0x4000_0000, permissions: rights, level: level)
                XCTAssertTrue(EPTEntry.isPresent(entry))
                XCTAssertTrue(EPTEntry.isLeaf(entry, level: level))
                XCTAssertEqual(EPTEntry.address(entry), 0x4000_0000)
                XCTAssertEqual(EPTEntry.permissions(ofLeaf: entry), rights)
            }
        }
        XCTAssertFalse(EPTEntry.isLeaf(EPTEntry.table(0x7000), level: 1), "a table entry at level 1 is not a leaf")
        XCTAssertEqual(EPTEntry.address(0xfff0_0000_0000_0007 | 0x8_0000_0000), 0x8_0000_0000, "bits 52+ are not address")
    }

    func testDeviceMemoryIsUncacheableAndReadsBack() {
        let rights = Permissions.read | Permissions.write | Permissions.device
        let entry = EPTEntry.leaf(0xfe00_0000, permissions: rights, level: 0)
        XCTAssertEqual(entry, 0xfe00_0000 | 0x3, "memory type 0: uncacheable")
        XCTAssertEqual(EPTEntry.permissions(ofLeaf: entry), rights)
        // The x86-64 format says the same with PCD|PWT, at every level.
        for level in 0..<3 {
            let leaf = PageTableEntry.leaf(0x4000_0000, permissions: rights, level: level)
            XCTAssertEqual(leaf & PageTableEntry.uncached, PageTableEntry.uncached)
            XCTAssertEqual(PageTableEntry.permissions(ofLeaf: leaf), rights)
            XCTAssertEqual(PageTableEntry.leaf(0x4000_0000, permissions: Permissions.read, level: level) & PageTableEntry.uncached, 0)
        }
        // A DMA table has no memory types: device memory maps as read/write like RAM.
        XCTAssertEqual(VTdEntry.permissions(ofLeaf: VTdEntry.leaf(0xfe00_0000, permissions: rights, level: 0)),
                       Permissions.read | Permissions.write)
    }
}
