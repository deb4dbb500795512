import Foundation
import XCTest

/// examples/vm-tests.toml on the image (QEMU -cpu max, SVM with nested paging): the real VMM runs every test guest
/// of VMM/Guests, and each VM's lines must be exactly VMM/Guests/vm-tests.expected, which the simulator prints too
/// (UserServicesTests.VMGuestTests): the two machines agree guest by guest.
final class VMGuestImageTests: XCTestCase {
    func testEveryTestGuestGivesItsDocumentedLinesOnSVM() throws {
        let image = try BuiltImage.image("vm-tests")
        let result = try ImageTools.runScript([image.path, "--timeout", "150"])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertFalse(output.contains("faulted"), output)
        let expected = try TestGuestLines.expected()
        let seen = TestGuestLines.seen(in: output)
        XCTAssertEqual(expected.count, 12)
        for (vm, lines) in expected { XCTAssertEqual(seen[vm] ?? [], lines, "VM \(vm):\n\(output)") }
    }
}
