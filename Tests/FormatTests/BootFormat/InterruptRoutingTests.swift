import BootFormat
import XCTest

/// The MADT as QEMU's q35 builds it, by hand: IRQ 0 at GSI 2, IRQs 5, 9, 10, 11 level/active-high.
final class InterruptRoutingTests: XCTestCase {
    static func override(_ irq: UInt8, _ gsi: UInt32, flags: UInt16) -> [UInt8] {
        [2, 10, 0, irq] + le32(gsi) + [UInt8(flags & 0xff), UInt8(flags >> 8)]
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A whole table: header (signature, length, revision, checksum, OEM fields), LAPIC address and flags, entries.
    static func madt(_ entries: [[UInt8]], fixChecksum: Bool = true) -> [UInt8] {
        let body = entries.flatMap { $0 }
        var t: [UInt8] = Array("APIC".utf8) + le32(UInt32(44 + body.count)) + [3, 0] + Array("BOCHS BXPC    ".utf8)
        t += le32(1) + le32(0x4258_5043) + le32(1) // OEM revision, creator id, creator revision
        XCTAssertEqual(t.count, 36)
        t += le32(0xfee0_0000) + le32(1) + body
        if fixChecksum { t[9] = 0 &- t.reduce(0, &+) }
        return t
    }

    static let q35: [[UInt8]] = [
        [0, 8, 0, 0, 1, 0, 0, 0],                                  // local APIC 0, enabled
        [1, 12, 0, 0] + le32(0xfec0_0000) + le32(0),                // IOAPIC 0 at 0xfec00000, GSI base 0
        override(0, 2, flags: 0),
        override(5, 5, flags: 0xd), override(9, 9, flags: 0xd), override(10, 10, flags: 0xd), override(11, 11, flags: 0xd),
        [4, 6, 0xff, 0, 0, 1],                                      // local APIC NMI, LINT1
    ]

    func testQ35Overrides() throws {
        let r = try InterruptRouting(madt: Self.madt(Self.q35))
        XCTAssertEqual(r.lines[0], .init(gsi: 2, level: false, activeLow: false), "IRQ 0 arrives at GSI 2")
        XCTAssertNil(r.lines[2], "GSI 2 belongs to IRQ 0: IRQ 2 has no pin")
        for irq in [5, 9, 10, 11] {
            XCTAssertEqual(r.lines[irq], .init(gsi: UInt32(irq), level: true, activeLow: false), "irq \(irq)")
        }
        XCTAssertEqual(r.lines[4], .init(gsi: 4, level: false, activeLow: false), "no override: ISA edge/high")
        XCTAssertEqual(r.lines[16], .init(gsi: 16, level: true, activeLow: true), "PCI: level/low")
        XCTAssertEqual(r.overrideSummary,
                       "irq 0 -> gsi 2 edge/high, irq 5 level/high, irq 9 level/high, irq 10 level/high, irq 11 level/high")
    }

    func testNoOverridesIsTheStandardRouting() throws {
        XCTAssertEqual(try InterruptRouting(madt: Self.madt([])), InterruptRouting.standard)
        XCTAssertEqual(InterruptRouting.standard.overrideSummary, "none")
        XCTAssertEqual(InterruptRouting.standard.lines.count, InterruptRouting.lineCount)
    }

    func testMalformedTablesAreRejectedWithAReason() {
        func rejects(_ table: [UInt8], _ expected: MADTError, line: UInt = #line) {
            XCTAssertThrowsError(try InterruptRouting(madt: table), line: line) { error in
                XCTAssertEqual(error as? MADTError, expected, line: line)
                XCTAssertFalse("\(error)".isEmpty, line: line)
            }
        }
        let good = Self.madt(Self.q35)
        rejects(Array(good.prefix(20)), .truncated(length: 20))
        var sig = good
        sig[0] = 0x46
        rejects(sig, .badSignature)
        rejects(Self.madt(Self.q35, fixChecksum: false), .badChecksum)
        rejects(Array(good.prefix(good.count - 1)), .badLength(good.count))
        rejects(Self.madt([[2, 0]]), .entryOutOfBounds(offset: 44))
        rejects(Self.madt([[0, 30, 0, 0]]), .entryOutOfBounds(offset: 44))
        rejects(Self.madt([[2, 8, 0, 0, 2, 0, 0, 0]]), .badOverrideLength(offset: 44, length: 8))
        rejects(Self.madt([Self.override(0, 40, flags: 0)]), .gsiBeyondLines(irq: 0, gsi: 40))
        rejects(Self.madt([Self.override(16, 16, flags: 0)]), .badOverrideSource(offset: 44, bus: 0, irq: 16))
        rejects(Self.madt([Self.override(5, 5, flags: 0x8)]), .reservedFlags(irq: 5, flags: 0x8))
        rejects(Self.madt([Self.override(5, 5, flags: 0xd), Self.override(5, 6, flags: 0)]), .duplicateOverride(irq: 5))
        rejects(Self.madt([Self.override(0, 2, flags: 0), Self.override(2, 2, flags: 0)]), .sharedGSI(gsi: 2))
        XCTAssertEqual(MADTError.badChecksum.description, "MADT checksum does not add up to zero")
    }

    func testSwappedPinsKeepBothLines() throws {
        let r = try InterruptRouting(madt: Self.madt([Self.override(2, 0, flags: 0), Self.override(0, 2, flags: 0)]))
        XCTAssertEqual(r.lines[0]?.gsi, 2)
        XCTAssertEqual(r.lines[2]?.gsi, 0)
    }
}
