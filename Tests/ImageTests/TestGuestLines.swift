import Foundation

/// The lines examples/vm-tests.toml's VMs print, per VM: what VMM/Guests/vm-tests.expected says, and what a boot's
/// console shows. The simulator (UserServicesTests.VMGuestTests), QEMU (VMGuestImageTests) and Bochs
/// (VMXGuestImageTests) are each compared with the same file, so the three machines agree guest by guest.
enum TestGuestLines {
    static func expected() throws -> [String: [String]] {
        let file = ImageTools.repositoryRoot.appendingPathComponent("VMM/Guests/vm-tests.expected")
        var expected: [String: [String]] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            expected[String(line[..<colon]), default: []].append(String(line[line.index(colon, offsetBy: 2)...]))
        }
        return expected
    }

    /// "<vmm>: <vm>: <line>" and "<vmm>: <vm> stopped: <why> (exit N, rip R)", cut before the exit and rip.
    static func seen(in output: String) -> [String: [String]] {
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
        return seen
    }
}
