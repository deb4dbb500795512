import Foundation
import XCTest

/// examples/vm-tests.toml on Bochs (Intel VMX with EPT, VPID and unrestricted guest; out/vm-tests.iso, the kernel's
/// multiboot2 entry): the real VMM runs every test guest of VMM/Guests, and each VM's lines must be exactly
/// VMM/Guests/vm-tests.expected, the file the simulator (VMGuestTests) and QEMU's SVM (VMGuestImageTests) are held
/// to: the three machines agree guest by guest.
final class VMXGuestImageTests: XCTestCase {
    func testEveryTestGuestGivesItsDocumentedLinesOnVMX() throws {
        let image = try BuiltImage.iso("vm-tests")
        let result = try ImageTools.runBochsScript([image.path, "--timeout", "150"])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertTrue(output.contains("kernel: virtual machines: Intel VMX with EPT, VPID and unrestricted guest"), output)
        XCTAssertFalse(output.contains("faulted"), output)
        let expected = try TestGuestLines.expected()
        let seen = TestGuestLines.seen(in: output)
        XCTAssertEqual(expected.count, 12)
        for (vm, lines) in expected { XCTAssertEqual(seen[vm] ?? [], lines, "VM \(vm):\n\(output)") }
    }
}
