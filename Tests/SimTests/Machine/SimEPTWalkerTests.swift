import XCTest
@testable import Sim

/// The simulated EPT walk: mappings, rights along the walk, large leaves, and what the hardware calls a
/// misconfiguration.
final class SimEPTWalkerTests: XCTestCase {
    let memory = SimPhysicalMemory(size: 16 << 20)
    let root: UInt64 = 0x10_0000, pdpt: UInt64 = 0x10_1000, directory: UInt64 = 0x10_2000, table: UInt64 = 0x10_3000

    override func setUpWithError() throws {
        try memory.write64(root, pdpt | 7)
        try memory.write64(pdpt, directory | 7)
        try memory.write64(directory, table | 7)
    }

    func testFourKiBAndTwoMiBLeavesWithTheirRights() throws {
        let walker = SimEPTWalker(memory: memory)
        try memory.write64(table + 8, 0x40_0000 | 0x1 | 0x30)  // guest page 1: read-only
        XCTAssertEqual(walker.translate(root: root, guestPhysical: 0x1000),
                       .mapped(host: 0x40_0000, read: true, write: false, execute: false))
        XCTAssertEqual(walker.translate(root: root, guestPhysical: 0x2000), .notMapped)
        try memory.write64(directory + 8, 0x80_0000 | 0x7 | 0x30 | 0x80)  // guest 2 MiB..4 MiB: one large leaf
        XCTAssertEqual(walker.translate(root: root, guestPhysical: 0x23_4000),
                       .mapped(host: 0x83_4000, read: true, write: true, execute: true))
        try memory.write64(pdpt, directory | 5)  // no write at the PDPT level: no write anywhere below
        XCTAssertEqual(walker.translate(root: root, guestPhysical: 0x23_4000),
                       .mapped(host: 0x83_4000, read: true, write: false, execute: true))
    }

    func testMisconfigurationsAreReportedNotWalked() throws {
        let walker = SimEPTWalker(memory: memory)
        try memory.write64(table, 0x40_0000 | 0x2 | 0x30)
        guard case .misconfigured = walker.translate(root: root, guestPhysical: 0) else { return XCTFail("write without read") }
        try memory.write64(table, 0x40_0000 | 0x3)
        guard case .misconfigured = walker.translate(root: root, guestPhysical: 0) else { return XCTFail("uncached leaf") }
        try memory.write64(directory + 8, 0x81_0000 | 0x7 | 0x30 | 0x80)
        guard case .misconfigured = walker.translate(root: root, guestPhysical: 0x20_0000) else {
            return XCTFail("unaligned 2 MiB leaf")
        }
    }
}
