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
        let file = ImageTools.repositoryRoot.appendingPathComponent("VMM/Guests/vm-tests.expected")
        var expected: [String: [String]] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            expected[String(line[..<colon]), default: []].append(String(line[line.index(colon, offsetBy: 2)...]))
        }
        // "<vmm>: <vm>: <line>" and "<vmm>: <vm> stopped: <why> (exit N, rip R)", cut before the exit and rip.
        var seen: [String: [String]] = [:]
        for raw in output.split(whereSeparator: \.isNewline) {
            let line = raw.replacingOccurrences(of: "\r", with: "")
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0].hasPrefix("vmm-") else { continue }
            if parts[1].hasSuffix(":") {
                seen[String(parts[1].dropLast()), default: []].append(parts[2])
            } else if parts[2].hasPrefix("stopped: ") {
                seen[parts[1], default: []].append(parts[2].components(separatedBy: " (exit ").first ?? parts[2])
            }
        }
        XCTAssertEqual(expected.count, 11)
        for (vm, lines) in expected { XCTAssertEqual(seen[vm] ?? [], lines, "VM \(vm):\n\(output)") }
    }
}
