import KernelABI
import XCTest
@testable import Kernel

/// The VT-d interrupt remapping formats the kernel writes (InterruptRemapEntry.swift, MessageInterrupt.swift,
/// VTdFault.swift), bit by bit against the VT-d specification (9.10, 5.1.2.2, 5.1.5.1, 10.4.14).
final class InterruptRemapEntryTests: XCTestCase {
    func testARemappedEntryIsPresentFixedPhysicalAndValidatesExactlyItsSource() {
        let e = InterruptRemapEntry.remapped(vector: 0x53, apicID: 2, level: false, source: 0x0010)
        XCTAssertEqual(e.low, 1 | 0x53 << 16 | 2 << 40, "P, vector bits 16-23, xAPIC destination bits 40-47")
        XCTAssertEqual(e.high, 0x0010 | 1 << 18, "SID bits 0-15, SQ 0 (all bits), SVT 1 (verify the SID)")
        XCTAssertEqual(e.low & (1 << 1 | 1 << 2 | 1 << 3 | 7 << 5 | 1 << 15), 0, "faults recorded, physical, no hint, fixed, remapped")
        XCTAssertTrue(e.isPresent)
        XCTAssertEqual(e.vector, 0x53)
        XCTAssertEqual(e.apicID, 2)
        XCTAssertFalse(e.isLevelTriggered)
        XCTAssertEqual(e.source, 0x0010)

        let line = InterruptRemapEntry.remapped(vector: 42, apicID: 0, level: true, source: 0xff00)
        XCTAssertEqual(line.low, 1 | 1 << 4 | 42 << 16, "TM bit 4: level")
        XCTAssertEqual(line.source, 0xff00)

        XCTAssertEqual(InterruptRemapEntry.notPresent, InterruptRemapEntry(low: 0, high: 0))
        XCTAssertNil(InterruptRemapEntry.notPresent.source)
        XCTAssertNil(InterruptRemapEntry(low: 1, high: 0x10).source, "present, but SVT 0 validates nothing")
        XCTAssertNil(InterruptRemapEntry(low: 0, high: 0x10 | 1 << 18).source, "not present")
    }

    func testTheRemappableMessageNamesItsHandle() {
        let m = MessageInterrupt.remappable(handle: 25)
        XCTAssertEqual(m.address, 0xfee0_0000 | 25 << 5 | 1 << 4 | 1 << 3, "handle bits 5-19, format bit 4, SHV bit 3")
        XCTAssertEqual(m.data, 0, "subhandle 0")
        XCTAssertEqual(m.remappableHandle, 25)
        let high = MessageInterrupt.remappable(handle: 0x8001)
        XCTAssertEqual(high.address, 0xfee0_0000 | 1 << 5 | 1 << 4 | 1 << 3 | 1 << 2, "handle bit 15 is address bit 2")
        XCTAssertEqual(high.remappableHandle, 0x8001)
        XCTAssertNil(MessageInterrupt.x86(vector: 80, apicID: 0).remappableHandle, "compatibility format")
        XCTAssertNil(MessageInterrupt(address: 0x1000 | 1 << 4, data: 0).remappableHandle, "outside the window")
        XCTAssertEqual(MessageInterrupt(address: 0xfee0_0000 | 4 << 5 | 1 << 4 | 1 << 3, data: 3).remappableHandle, 7,
                       "with SHV the subhandle (data) is added")
        XCTAssertEqual(MessageInterrupt(address: 0xfee0_0000 | 4 << 5 | 1 << 4, data: 3).remappableHandle, 4,
                       "without SHV the data is not part of the index")
    }

    func testTheIOAPICEntryInRemappableFormat() {
        let e = InterruptRemapEntry.ioapicRedirection(handle: 0x8005, vector: 37, level: true, activeLow: true)
        XCTAssertEqual(e & 0xff, 37, "the vector, as the IRTE's (EOI matching)")
        XCTAssertEqual(e >> 8 & 7, 0, "delivery mode 0")
        XCTAssertEqual(e >> 11 & 1, 1, "handle bit 15")
        XCTAssertEqual(e >> 13 & 1, 1, "active low")
        XCTAssertEqual(e >> 15 & 1, 1, "level")
        XCTAssertEqual(e >> 16 & 1, 1, "masked until the kernel unmasks it")
        XCTAssertEqual(e >> 48 & 1, 1, "remappable format")
        XCTAssertEqual(e >> 49, 5, "handle bits 0-14")
        let edge = InterruptRemapEntry.ioapicRedirection(handle: 4, vector: 36, level: false, activeLow: false)
        XCTAssertEqual(edge, 36 | 1 << 16 | 1 << 48 | 4 << 49)
    }

    func testFaultRecordsAreNamedDMAOrInterruptRemapping() {
        // A DMA read fault: FI the page, T (bit 62 of the high word) 1 = read, reason bits 32-39, SID bits 0-15.
        let dma = VTdFault(recordLow: 0x10_0000_0123, high: 1 << 63 | 1 << 62 | 0x6 << 32 | 0x0010)
        XCTAssertEqual(dma, VTdFault(requester: 0x10, address: 0x10_0000_0000, reason: 6, write: false))
        XCTAssertEqual(dma.description, "kernel: DMA fault: device 00:02.0 read at 0x1000000000 blocked: reason 0x6 "
                       + "(read not permitted: memory the PD does not hold)")
        // An interrupt remapping fault: the index (handle) in FI bits 48-63.
        let source = VTdFault(recordLow: 25 << 48, high: 1 << 63 | 0x26 << 32 | 0x0010)
        XCTAssertEqual(source.address, 25)
        XCTAssertEqual(source.description, "kernel: interrupt remapping fault: device 00:02.0 message with handle 25 "
                       + "blocked: reason 0x26 (source validation failed: the entry belongs to another device)")
        for reason in UInt8(0x20)...0x26 {
            XCTAssertTrue(VTdFault.isInterruptRemapping(reason))
            XCTAssertNotEqual(VTdFault.name(reason), "see the VT-d specification", "reason \(reason) is named")
        }
        XCTAssertFalse(VTdFault.isInterruptRemapping(0x6))
        XCTAssertFalse(VTdFault.isInterruptRemapping(0x27))
        XCTAssertEqual(VTdFault(recordLow: 0, high: 0x25 << 32 | 0xff00).description,
                       "kernel: interrupt remapping fault: device ff:00.0 message with handle 0 blocked: reason 0x25 "
                       + "(compatibility-format interrupt blocked)")
    }
}
