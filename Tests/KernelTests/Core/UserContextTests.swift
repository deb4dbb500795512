@testable import Kernel
import XCTest

/// The parts of UserContext the x86 assembly depends on.
final class UserContextTests: XCTestCase {
    /// traps.S loads and stores the EC's registers in place at fixed word offsets; a reordered or inserted stored
    /// property in UserContext would make user registers land in the wrong fields.
    func testUserContextStartsWithTheRegisterWordsInStubOrder() {
        XCTAssertTrue(UserContext.hasStubLayout)
        XCTAssertEqual(MemoryLayout<UserContext>.offset(of: \.rip), 16 * 8)
        XCTAssertEqual(MemoryLayout<UserContext>.offset(of: \.rflags), 17 * 8)
    }
}
