import XCTest
@testable import Sim

final class SimGuestEntryTests: XCTestCase {
    func testAnInvalidGuestStateIsAFailedEntryAndNothingRuns() throws {
        let vm = try GuestMachine("cpuid")
        let good = vm.longModeState(at: "start")
        var cases: [(String, (inout SimGuestState) -> Void, SimGuestEntryError)] = [
            ("PG without PE", { $0.cr0 = 0x8000_0000 }, .pagingWithoutProtection),
            ("LME+PG without PAE", { $0.cr4 = 0 }, .longModeWithoutPAE),
            ("LMA without PG", { $0.cr0 = 0x11; $0.cs = .flatCode32(0x18) }, .longModeMismatch(efer: 0xd00, cr0: 0x11)),
            ("reserved EFER bit (SVME)", { $0.efer |= 0x1000 }, .reservedBits(register: "efer", value: 0x1d00)),
            ("CR4.VMXE", { $0.cr4 |= 0x2000 }, .reservedBits(register: "cr4", value: 0x2020)),
            ("segment attributes beyond 12 bits", { $0.ds.attributes = 0x1093 }, .badSegment(name: "ds", attributes: 0x1093)),
            ("CS is a data segment", { $0.cs.attributes = 0xc93 }, .badSegment(name: "cs", attributes: 0xc93)),
            ("CS with L and D", { $0.cs.attributes = 0xe9b }, .badSegment(name: "cs", attributes: 0xe9b)),
        ]
        let events: [SimGuestEvent] = [SimGuestEvent(vector: 14, type: .exception), SimGuestEvent(vector: 3, type: .nmi),
                                       SimGuestEvent(vector: 40, type: .exception), SimGuestEvent(vector: 6, type: .exception, errorCode: 1)]
        for event in events { cases.append(("event \(event)", { $0.pendingEvent = event }, .badEvent(event))) }
        for (name, change, error) in cases {
            var state = good
            change(&state)
            let before = state
            XCTAssertEqual(vm.run(&state), .failedEntry(error), name)
            XCTAssertEqual(state, before, "\(name): the state is untouched")
            XCTAssertFalse("\(error)".isEmpty)
        }
        XCTAssertEqual(vm.cpu.clock, 0, "no guest instruction ran")
    }

    func testANestedMappingBeyondRAMIsAFailedEntryNotACrash() throws {
        let vm = try GuestMachine("cpuid")
        vm.nestedOverrides[0x10000] = SimGuestNestedMapping(hostPhysical: 0x1_0000_0000)
        var state = vm.longModeState(at: "start")
        XCTAssertEqual(vm.run(&state), .failedEntry(.mappingBeyondRAM(guestPhysical: 0x10000, hostPhysical: 0x1_0000_0000)))
    }

    func testSeveralGuestCPUsCoexistAndRunInterleaved() throws {
        let a = try GuestMachine("rdtsc"), b = try GuestMachine("rdtsc")
        var stateA = a.longModeState(at: "start"), stateB = b.longModeState(at: "start")
        stateB.tscOffset = 1000
        var exitsA: [SimGuestExit] = [], exitsB: [SimGuestExit] = []
        while exitsA.last?.nextRip == nil || exitsB.last?.nextRip == nil {
            if exitsA.last?.nextRip == nil { exitsA.append(a.run(&stateA, budget: 30)) }
            if exitsB.last?.nextRip == nil { exitsB.append(b.run(&stateB, budget: 17)) }
        }
        XCTAssertEqual(stateA.r9 - stateA.r8, 204)
        XCTAssertEqual(stateB.r9 - stateB.r8, 204)
        XCTAssertEqual(stateB.r8 - stateA.r8, 1000, "each vCPU has its own clock and offset")
        XCTAssertEqual(a.cpu.clock, b.cpu.clock)
    }
}
