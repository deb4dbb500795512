import XCTest
@testable import DeviceModels

final class IOAPICTests: XCTestCase {
    private func readRegister(_ ioapic: IOAPIC, _ index: UInt8) -> UInt32 {
        ioapic.mmioWrite(offset: 0x00, size: 4, value: UInt64(index))
        return UInt32(ioapic.mmioRead(offset: 0x10, size: 4))
    }

    private func writeRegister(_ ioapic: IOAPIC, _ index: UInt8, _ value: UInt32) {
        ioapic.mmioWrite(offset: 0x00, size: 4, value: UInt64(index))
        ioapic.mmioWrite(offset: 0x10, size: 4, value: UInt64(value))
    }

    /// __ioapic_write_entry: the high dword first, then the low one (which may unmask).
    private func writeEntry(_ ioapic: IOAPIC, pin: Int, low: UInt32, destination: UInt8 = 1) {
        writeRegister(ioapic, UInt8(0x11 + 2 * pin), UInt32(destination) << 24)
        writeRegister(ioapic, UInt8(0x10 + 2 * pin), low)
    }

    /// A local APIC set up the way Linux leaves it (flat logical ID 1, TPR 0x10, enabled).
    private func linuxAPIC() -> LocalAPIC {
        let apic = LocalAPIC()
        apic.mmioWrite(offset: 0xd0, size: 4, value: 0x0100_0000)
        apic.mmioWrite(offset: 0x80, size: 4, value: 0x10)
        apic.mmioWrite(offset: 0xf0, size: 4, value: 0x1ff)
        return apic
    }

    private func eoi(_ apic: LocalAPIC) { apic.mmioWrite(offset: 0xb0, size: 4, value: 0) }

    private let logicalFixedEdge: UInt32 = 0x800

    func testIdentificationRegisters() {
        let ioapic = IOAPIC(localAPIC: LocalAPIC(), id: 2)
        XCTAssertEqual(readRegister(ioapic, 0x00), 0x0200_0000)
        XCTAssertEqual(readRegister(ioapic, 0x01), 0x0017_0020, "version 0x20, 24 entries")
        XCTAssertEqual(readRegister(ioapic, 0x02), 0x0200_0000)
        writeRegister(ioapic, 0x00, 0xffff_ffff)
        XCTAssertEqual(readRegister(ioapic, 0x00), 0x0f00_0000, "ID bits 24-27")
        writeRegister(ioapic, 0x01, 0)
        XCTAssertEqual(ioapic.errors.pending, [.readOnlyRegister(.ioapic, register: 1)])
        XCTAssertEqual(ioapic.mmioRead(offset: 0x00, size: 4), 0x01, "IOREGSEL reads back")
        for pin in 0..<24 { XCTAssertEqual(ioapic.redirectionEntry(pin), 0x10000, "masked at reset") }
    }

    func testEdgePinDeliversLikeTheTimerOnPin2() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 2, low: logicalFixedEdge | 0x30)
        XCTAssertEqual(readRegister(ioapic, 0x14), 0x830)
        XCTAssertEqual(readRegister(ioapic, 0x15), 0x0100_0000)
        ioapic.setLevel(pin: 2, high: true)
        XCTAssertEqual(apic.highestDeliverable(), 0x30)
        XCTAssertFalse(apic.isLevelTriggered(0x30))
        apic.acknowledge(0x30)
        ioapic.setLevel(pin: 2, high: true)
        XCTAssertFalse(apic.isRequested(0x30), "no edge, no message")
        ioapic.setLevel(pin: 2, high: false)
        ioapic.setLevel(pin: 2, high: true)
        XCTAssertTrue(apic.isRequested(0x30))
        XCTAssertTrue(ioapic.errors.pending.isEmpty)
    }

    func testEdgesOnAMaskedPinAreLost() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 4, low: 0x10000 | logicalFixedEdge | 0x34)
        ioapic.setLevel(pin: 4, high: true)
        ioapic.setLevel(pin: 4, high: false)
        writeEntry(ioapic, pin: 4, low: logicalFixedEdge | 0x34)
        XCTAssertNil(apic.highestDeliverable())
    }

    func testLevelPinWithRemoteIRRAndEOIBroadcast() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 16, low: 0x2000 | 0x8000 | logicalFixedEdge | 0x41)  // level, active low
        ioapic.setLevel(pin: 16, high: true)
        XCTAssertTrue(apic.isRequested(0x41))
        XCTAssertTrue(apic.isLevelTriggered(0x41))
        XCTAssertEqual(readRegister(ioapic, 0x30) & 0x4000, 0x4000, "remote IRR")
        apic.acknowledge(0x41)
        ioapic.setLevel(pin: 16, high: true)
        XCTAssertFalse(apic.isRequested(0x41), "remote IRR holds the next message back")
        eoi(apic)   // the local APIC broadcasts the EOI of a level vector
        XCTAssertEqual(readRegister(ioapic, 0x30) & 0x4000, 0x4000, "still asserted: sent again")
        XCTAssertTrue(apic.isRequested(0x41))
        apic.acknowledge(0x41)
        ioapic.setLevel(pin: 16, high: false)
        eoi(apic)
        XCTAssertEqual(readRegister(ioapic, 0x30) & 0x4000, 0)
        XCTAssertFalse(apic.isRequested(0x41))
    }

    func testLevelPinAssertedWhileMaskedIsDeliveredOnUnmask() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 9, low: 0x10000 | 0x8000 | logicalFixedEdge | 0x39)
        ioapic.setLevel(pin: 9, high: true)
        XCTAssertFalse(apic.isRequested(0x39))
        writeEntry(ioapic, pin: 9, low: 0x8000 | logicalFixedEdge | 0x39)
        XCTAssertTrue(apic.isRequested(0x39))
    }

    func testEOIRegisterAndLinuxClearPin() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 10, low: 0x8000 | logicalFixedEdge | 0x3a)
        ioapic.setLevel(pin: 10, high: true)
        ioapic.setLevel(pin: 10, high: false)
        // clear_IO_APIC_pin: mask, see remote IRR, EOI by the version-0x20 register.
        writeRegister(ioapic, 0x24, readRegister(ioapic, 0x24) | 0x10000)
        XCTAssertEqual(readRegister(ioapic, 0x24) & 0x4000, 0x4000)
        ioapic.mmioWrite(offset: 0x40, size: 4, value: 0x3a)
        XCTAssertEqual(readRegister(ioapic, 0x24) & 0x4000, 0)
        // The old way: switching the entry to edge ends a remote IRR as well.
        writeEntry(ioapic, pin: 10, low: 0x8000 | logicalFixedEdge | 0x3a)
        ioapic.setLevel(pin: 10, high: true)
        XCTAssertEqual(readRegister(ioapic, 0x24) & 0x4000, 0x4000)
        writeRegister(ioapic, 0x24, logicalFixedEdge | 0x3a)
        XCTAssertEqual(readRegister(ioapic, 0x24) & 0x4000, 0)
    }

    func testReservedVectorsAreNotDelivered() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 5, low: logicalFixedEdge | 0x05)
        ioapic.setLevel(pin: 5, high: true)
        XCTAssertEqual(ioapic.reservedVectorMessages, 1)
        XCTAssertEqual(ioapic.errors.pending, [.reservedVector(.ioapic, source: 5, vector: 5)])
        XCTAssertFalse(apic.isRequested(5))
        apic.mmioWrite(offset: 0x280, size: 4, value: 0)
        XCTAssertEqual(UInt32(apic.mmioRead(offset: 0x280, size: 4)), LocalAPIC.receiveIllegalVector)
        // Level-triggered: never accepted, so no remote IRR and no lock-up of the pin.
        writeEntry(ioapic, pin: 6, low: 0x8000 | logicalFixedEdge | 0x0f)
        ioapic.setLevel(pin: 6, high: true)
        XCTAssertEqual(readRegister(ioapic, 0x1c) & 0x4000, 0)
        XCTAssertEqual(ioapic.reservedVectorMessages, 2)
        XCTAssertEqual(ioapic.errors.pending.last?.message, "IOAPIC: source 6 uses reserved vector 15, not delivered")
    }

    func testDestinationsAndDeliveryModes() {
        let apic = linuxAPIC()
        let ioapic = IOAPIC(localAPIC: apic)
        writeEntry(ioapic, pin: 3, low: 0x33, destination: 0)         // physical APIC 0
        ioapic.setLevel(pin: 3, high: true)
        XCTAssertTrue(apic.isRequested(0x33))
        writeEntry(ioapic, pin: 7, low: 0x37, destination: 3)         // physical APIC 3: nobody
        ioapic.setLevel(pin: 7, high: true)
        XCTAssertFalse(apic.isRequested(0x37))
        XCTAssertEqual(ioapic.errors.pending, [.noDestination(.ioapic, source: 7, destination: 3)])
        writeEntry(ioapic, pin: 11, low: logicalFixedEdge | 0x100 | 0x3b)  // lowest priority
        ioapic.setLevel(pin: 11, high: true)
        XCTAssertTrue(apic.isRequested(0x3b))
        writeEntry(ioapic, pin: 12, low: logicalFixedEdge | 0x400)    // NMI
        ioapic.setLevel(pin: 12, high: true)
        XCTAssertTrue(apic.takeNMI())
        writeEntry(ioapic, pin: 0, low: logicalFixedEdge | 0x700)     // ExtINT: the 8259 answers the INTA
        ioapic.setLevel(pin: 0, high: true)
        XCTAssertTrue(apic.extINTPending)
        writeEntry(ioapic, pin: 13, low: logicalFixedEdge | 0x200)    // SMI
        ioapic.setLevel(pin: 13, high: true)
        XCTAssertEqual(ioapic.errors.pending.last, .unsupportedDeliveryMode(.ioapic, source: 13, mode: 2))
    }

    func testReadOnlyBitsAndBadAccesses() {
        let ioapic = IOAPIC(localAPIC: linuxAPIC())
        writeRegister(ioapic, 0x10, 0xffff_ffff)
        XCTAssertEqual(readRegister(ioapic, 0x10), 0x0001_afff, "delivery status and remote IRR are read-only")
        writeRegister(ioapic, 0x11, 0xffff_ffff)
        XCTAssertEqual(readRegister(ioapic, 0x11), 0xff00_0000)
        XCTAssertEqual(readRegister(ioapic, 0x40), 0)
        writeRegister(ioapic, 0x05, 1)
        XCTAssertEqual(ioapic.mmioRead(offset: 0x10, size: 1), 0)
        ioapic.mmioWrite(offset: 0x20, size: 4, value: 0)
        ioapic.mmioWrite(offset: 0x10, size: 8, value: 0)
        ioapic.setLevel(pin: 24, high: true)
        XCTAssertEqual(ioapic.errors.pending, [
            .reservedRegister(.ioapic, register: 0x40), .reservedRegister(.ioapic, register: 0x05),
            .unsupportedAccess(.ioapic, offset: 0x10, size: 1, write: false),
            .unsupportedAccess(.ioapic, offset: 0x20, size: 4, write: true),
            .unsupportedAccess(.ioapic, offset: 0x10, size: 8, write: true), .noSuchLine(24),
        ])
        ioapic.mmioWrite(offset: 0x00, size: 1, value: 0x12)
        XCTAssertEqual(ioapic.mmioRead(offset: 0x00, size: 4), 0x12, "IOREGSEL takes byte writes")
    }
}
