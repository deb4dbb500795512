import Foundation
import XCTest

/// The mkimage CLI checks every binary before it writes an image.
final class MkimageTests: XCTestCase {
    func testNonX86ELFIsRejectedNamingTheFile() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let binaries = try BuiltImage.require(BuiltImage.out.appendingPathComponent("binaries"))
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copied = dir.appendingPathComponent("binaries")
        try FileManager.default.copyItem(at: binaries, to: copied)
        let hello = copied.appendingPathComponent("hello")
        var bytes = try Data(contentsOf: hello)
        bytes[18] = 40 // e_machine = EM_ARM
        bytes[19] = 0
        try bytes.write(to: hello)

        let manifest = ImageTools.repositoryRoot.appendingPathComponent("examples/minimal.toml").path
        let result = try ImageTools.run(mkimage.path, [
            "build", "--manifest", manifest, "--binaries", copied.path,
            "--loader", BuiltImage.out.appendingPathComponent("efi/BOOTX64.EFI").path,
            "--kernel", BuiltImage.out.appendingPathComponent("kernel.elf").path,
            "-o", dir.appendingPathComponent("x.img").path,
        ])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("mkimage: error: binary '\(hello.path)' is not a loadable x86-64 ELF"),
                      result.output)
        XCTAssertTrue(result.output.contains("40"), "the error should name the machine: \(result.output)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.img").path))
    }

    func testCheckAcceptsTheBuiltBinaries() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let binaries = try BuiltImage.require(BuiltImage.out.appendingPathComponent("binaries"))
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("examples/ipc-pingpong.toml").path
        let result = try ImageTools.run(mkimage.path, ["check", "--manifest", manifest, "--binaries", binaries.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ok (3 binaries)"), result.output)
    }

    func testMissingOptionsAreNamed() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let result = try ImageTools.run(mkimage.path, ["build", "--binaries", "/tmp"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("build needs --loader, --kernel, -o"), result.output)
    }

    func testMissingBinaryIsReportedAtItsManifestLine() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("examples/minimal.toml").path
        let result = try ImageTools.run(mkimage.path, ["check", "--manifest", manifest, "--binaries", dir.path])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("minimal.toml:9:10: error: binary 'serial' of component 'serial' does not exist"),
                      result.output)
    }

    func testDotDrawsTheComposition() throws {
        let mkimage = try BuiltImage.require(BuiltImage.mkimage)
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("examples/ipc-pingpong.toml").path
        let output = dir.appendingPathComponent("system.dot")
        let result = try ImageTools.run(mkimage.path, ["dot", "--manifest", manifest, "-o", output.path])
        XCTAssertEqual(result.status, 0, result.output)
        let dot = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(dot.contains("digraph"), dot)
        for name in ["serial", "ping", "pong"] { XCTAssertTrue(dot.contains(name), dot) }
    }
}
