import Foundation
import XCTest

/// What tools/linux-guest/build leaves in out/linux-guest: Debian's cloud kernel, the initramfs and the disk. A
/// missing artifact is a test failure that says how to build it (these tests never skip).
enum LinuxGuestArtifacts {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()
    static var folder: URL { repositoryRoot.appendingPathComponent("out/linux-guest") }

    static func bytes(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let url = folder.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("\(url.path) is missing: run tools/linux-guest/build first", file: file, line: line)
            throw MissingArtifact(path: url.path)
        }
        return [UInt8](data)
    }

    static func kernel(file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        try bytes("vmlinuz", file: file, line: line)
    }

    /// "6.1.0-57-cloud-amd64", as the build printed it.
    static func kernelRelease(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let text = String(decoding: try bytes("kernel-version", file: file, line: line), as: UTF8.self)
        return String(text.split(separator: " ").first ?? "")
    }

    struct MissingArtifact: Error { var path: String }
}
