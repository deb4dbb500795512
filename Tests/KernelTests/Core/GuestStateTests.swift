import KernelABI
import XCTest
@testable import Kernel

/// The vendor-neutral checks on what a VMM may inject and enter (GuestState.swift): the strictest of the machines'
/// rules, so a state is taken or refused alike by SVM, VMX and the simulator (ABI.md "Virtual machines").
final class GuestStateTests: XCTestCase {
    let valid: UInt64 = 1 << 31, errorCode: UInt64 = 1 << 11
    func exception(_ vector: UInt64) -> UInt64 { valid | InjectionType.exception.rawValue << 8 | vector }

    func testExceptionsCarryAnErrorCodeExactlyWhenTheyHaveOne() {
        for vector: UInt64 in [8, 10, 11, 12, 13, 14, 17] {
            XCTAssertNil(GuestState.injectionProblem(exception(vector) | errorCode, errorCode: 0), "vector \(vector)")
            XCTAssertEqual(GuestState.injectionProblem(exception(vector), errorCode: 0),
                           "injected exception \(vector) without its error code")
        }
        for vector: UInt64 in [0, 1, 3, 4, 5, 6, 7, 9, 16, 18, 19, 20] {
            XCTAssertNil(GuestState.injectionProblem(exception(vector), errorCode: 0), "vector \(vector)")
            XCTAssertEqual(GuestState.injectionProblem(exception(vector) | errorCode, errorCode: 0),
                           "injected exception \(vector) with an error code it does not have")
        }
        for vector: UInt64 in [2, 21, 29, 30, 32, 40] {
            XCTAssertEqual(GuestState.injectionProblem(exception(vector), errorCode: 0), "injected exception vector \(vector)")
        }
    }

    func testInterruptsAndNMIs() {
        let interrupt = valid | InjectionType.externalInterrupt.rawValue << 8
        XCTAssertNil(GuestState.injectionProblem(interrupt | 0x20, errorCode: 0))
        XCTAssertEqual(GuestState.injectionProblem(interrupt | 0x20 | errorCode, errorCode: 0),
                       "injected event of type 0 with an error code")
        XCTAssertEqual(GuestState.injectionProblem(interrupt | 8, errorCode: 0), "external interrupt vector 8 below 16")
        let nmi = valid | InjectionType.nmi.rawValue << 8
        XCTAssertNil(GuestState.injectionProblem(nmi | 2, errorCode: 0))
        XCTAssertEqual(GuestState.injectionProblem(nmi | 3, errorCode: 0), "injected NMI with vector 3")
        XCTAssertEqual(GuestState.injectionProblem(valid | 5 << 8 | 3, errorCode: 0), "injection type 5")
        XCTAssertNil(GuestState.injectionProblem(0x20, errorCode: 0), "not valid: nothing to inject")
    }

    func testAnExternalInterruptNeedsRFLAGSIF() {
        var state = GuestState()
        state.injection = valid | InjectionType.externalInterrupt.rawValue << 8 | 0x20
        XCTAssertEqual(state.entryProblem, "external interrupt injected while RFLAGS.IF is clear")
        state.rflags |= 1 << 9
        XCTAssertNil(state.entryProblem)
        state.rflags = 0x2
        state.injection = exception(6)
        XCTAssertNil(state.entryProblem, "exceptions do not wait for IF")
    }
}
