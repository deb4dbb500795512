import XCTest
@testable import Sim

final class SimPageTableWalkerTests: XCTestCase {
    let page: UInt64 = 0x80_0000_0000
    let frame: UInt64 = 0x20_0000
    var memory: SimPhysicalMemory!
    var tables: SimPageTableBuilder!
    var walker: SimPageTableWalker!

    override func setUp() {
        memory = SimPhysicalMemory(size: 16 << 20)
        tables = try! SimPageTableBuilder(memory: memory, tablePool: 0x10_0000..<0x20_0000)
        walker = SimPageTableWalker(memory: memory)
    }

    private func code(_ access: SimAccess, _ privilege: SimPrivilege, present: Bool) -> UInt64 {
        (present ? PageFaultErrorCode.present : 0) | (access == .write ? PageFaultErrorCode.write : 0)
            | (privilege == .user ? PageFaultErrorCode.user : 0)
            | (access == .execute ? PageFaultErrorCode.instructionFetch : 0)
    }

    private func outcome(_ access: SimAccess, _ privilege: SimPrivilege, address: UInt64? = nil) -> UInt64? {
        do throws(SimTranslationFault) {
            let t = try walker.translate(root: tables.root, address: address ?? page + 0x123, access: access,
                                         privilege: privilege)
            XCTAssertEqual(t.physical, frame + 0x123)
            return nil
        } catch {
            guard case .pageFault(let address, let errorCode) = error else { XCTFail("\(error)"); return 0 }
            XCTAssertEqual(address, page + 0x123)
            return errorCode
        }
    }

    /// Every combination of leaf bits against every access and privilege, as the hardware decides it.
    func testPermissionMatrix() throws {
        for writable in [false, true] {
            for user in [false, true] {
                for executable in [false, true] {
                    try tables.map(page, to: frame, writable: writable, user: user, executable: executable)
                    for privilege in [SimPrivilege.user, .supervisor] {
                        for access in [SimAccess.read, .write, .execute] {
                            let allowed = (privilege == .supervisor || user) && (access != .write || writable)
                                && (access != .execute || executable)
                            let expected = allowed ? nil : code(access, privilege, present: true)
                            XCTAssertEqual(outcome(access, privilege), expected,
                                           "w=\(writable) u=\(user) x=\(executable) \(privilege) \(access)")
                        }
                    }
                }
            }
        }
    }

    func testNotPresentAtEachLevel() throws {
        for access in [SimAccess.read, .write, .execute] {
            XCTAssertEqual(outcome(access, .user), code(access, .user, present: false))
        }
        try tables.map(page, to: frame, writable: true, user: true, executable: true)
        XCTAssertNil(outcome(.write, .user))
        for level in (0...3).reversed() {
            let slot = try XCTUnwrap(tables.entryAddress(page, level: level))
            let entry = try memory.read64(slot)
            try memory.write64(slot, entry & ~1)
            XCTAssertEqual(outcome(.read, .supervisor), code(.read, .supervisor, present: false), "level \(level)")
            try memory.write64(slot, entry)
        }
    }

    func testUpperLevelBitsRestrictTheLeaf() throws {
        try tables.map(page, to: frame, writable: true, user: true, executable: true)
        for (level, bit, access, privilege) in [(0, UInt64(2), SimAccess.write, SimPrivilege.supervisor),
                                                (1, 4, .read, .user), (2, 1 << 63, .execute, .user)] {
            let slot = try XCTUnwrap(tables.entryAddress(page, level: level))
            let entry = try memory.read64(slot)
            try memory.write64(slot, bit == 1 << 63 ? entry | bit : entry & ~bit)
            XCTAssertEqual(outcome(access, privilege), code(access, privilege, present: true), "level \(level)")
            try memory.write64(slot, entry)
        }
    }

    func testReservedBitsFault() throws {
        try tables.map(page, to: frame, writable: true, user: true, executable: true)
        let leaf = try XCTUnwrap(tables.entryAddress(page, level: 3))
        let entry = try memory.read64(leaf)
        try memory.write64(leaf, entry | 1 << 50)
        XCTAssertEqual(outcome(.read, .user),
                       code(.read, .user, present: true) | PageFaultErrorCode.reservedBit)
        try memory.write64(leaf, entry)
        let pml4e = try XCTUnwrap(tables.entryAddress(page, level: 0))
        try memory.write64(pml4e, try memory.read64(pml4e) | 0x80) // PS is reserved in a PML4 entry
        XCTAssertEqual(outcome(.write, .supervisor),
                       code(.write, .supervisor, present: true) | PageFaultErrorCode.reservedBit)
    }

    func testLargePage() throws {
        try tables.map(page, to: frame, writable: true, user: true, executable: true)
        let pde = try XCTUnwrap(tables.entryAddress(page, level: 2))
        try memory.write64(pde, 0x40_0000 | 0x80 | 0x7)
        let t = try walker.translate(root: tables.root, address: page + 0x12_3456, access: .write, privilege: .user)
        XCTAssertEqual(t.physical, 0x52_3456)
        try memory.write64(pde, 0x40_2000 | 0x80 | 0x7) // bits 13-20 of a 2 MiB frame are reserved (12 is PAT)
        XCTAssertThrowsError(try walker.translate(root: tables.root, address: page, access: .read, privilege: .user))
    }

    func testNonCanonicalIsGeneralProtection() {
        XCTAssertThrowsError(try walker.translate(root: tables.root, address: 0x8000_0000_0000, access: .read,
                                                  privilege: .user)) {
            XCTAssertEqual($0 as? SimTranslationFault, .nonCanonical(address: 0x8000_0000_0000))
        }
    }

    func testTableBeyondRAMIsReported() throws {
        let pml4e = try XCTUnwrap(tables.entryAddress(page, level: 0))
        try memory.write64(pml4e, 0x1_0000_0000 | 7)
        XCTAssertThrowsError(try walker.translate(root: tables.root, address: page, access: .read, privilege: .user)) {
            guard case .physical(.outOfRange)? = $0 as? SimTranslationFault else { return XCTFail("\($0)") }
        }
    }
}
