import Foundation
import XCTest

/// What tools/build-image leaves in out/, and helpers to make broken variants of it. A missing artifact is a test
/// failure that says how to build it (image tests never skip).
enum BuiltImage {
    static var out: URL { ImageTools.repositoryRoot.appendingPathComponent("out") }
    static var mkimage: URL { ImageTools.repositoryRoot.appendingPathComponent(".build-image/release/mkimage") }

    static func require(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("\(url.path) is missing: run tools/build-image first", file: file, line: line)
            throw MissingArtifact(path: url.path)
        }
        return url
    }

    static func image(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        try require(out.appendingPathComponent("\(name).img"), file: file, line: line)
    }

    /// The GRUB ISO of the same image (tools/build-iso), what Bochs boots.
    static func iso(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        try require(out.appendingPathComponent("\(name).iso"), file: file, line: line)
    }

    struct MissingArtifact: Error { var path: String }

    /// A scratch directory removed by the caller.
    static func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("image-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A 1 MiB raw disk file in `dir` for tools/run --disk / --modern-disk: zeros, but `start` at byte 0.
    static func disk(in dir: URL, startingWith start: [UInt8] = []) throws -> URL {
        let disk = dir.appendingPathComponent("disk.raw")
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        bytes.replaceSubrange(0..<start.count, with: start)
        try Data(bytes).write(to: disk)
        return disk
    }

    /// Runs an mtools command on an image; throws with its output when it fails.
    static func mtools(_ tool: String, _ arguments: [String]) throws {
        let result = try ImageTools.run("/usr/bin/env", [tool] + arguments)
        guard result.status == 0 else { throw ToolFailed(command: "\(tool) \(arguments)", output: result.output) }
    }

    struct ToolFailed: Error { var command: String; var output: String }

    /// Copies `image` and replaces one file on it (`path` like "::/hv/bundle.bin") with `contents`.
    static func copy(_ image: URL, replacing path: String, with contents: Data, in dir: URL) throws -> URL {
        let copy = dir.appendingPathComponent("patched.img")
        try FileManager.default.copyItem(at: image, to: copy)
        let replacement = dir.appendingPathComponent("replacement.bin")
        try contents.write(to: replacement)
        try mtools("mcopy", ["-o", "-i", copy.path, replacement.path, path])
        return copy
    }

    /// Reads one file off an image.
    static func read(_ image: URL, _ path: String, in dir: URL) throws -> Data {
        let target = dir.appendingPathComponent("extracted.bin")
        try? FileManager.default.removeItem(at: target)
        try mtools("mcopy", ["-i", image.path, path, target.path])
        return try Data(contentsOf: target)
    }

    /// Where the named module's bytes are in a boot bundle (layout in Kernel/BootFormat/BootBundleLayout.swift).
    static func module(_ name: String, in bundle: Data) -> Range<Int>? {
        let bytes = [UInt8](bundle)
        func word(_ at: Int, _ width: Int) -> Int {
            (0..<width).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        for i in 0..<word(12, 4) {
            let entry = 32 + i * 64
            let nameBytes = bytes[entry..<entry + 48].prefix { $0 != 0 }
            if String(decoding: nameBytes, as: UTF8.self) == name {
                let offset = word(entry + 48, 8)
                return offset..<offset + word(entry + 56, 8)
            }
        }
        return nil
    }
}

extension BuiltImage {
    /// Builds an image from Tests/ImageTests/Manifests/NAME.toml with the built binaries and boots it with tools/run
    /// (QEMU, SVM; ending at `until` when given; `devices` added with --device, then `extra` tools/run arguments,
    /// e.g. `--disk FILE`), or with tools/run-bochs (Bochs, VMX) when `onBochs`.
    static func bootTestManifest(_ name: String, timeout: String = "45", until: String? = nil, onBochs: Bool = false,
                                 devices: [String] = [], extra: [String] = []) throws -> ImageTools.Result {
        let mkimage = try require(Self.mkimage)
        let binaries = try require(out.appendingPathComponent("binaries"))
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("\(name).img")
        let manifest = ImageTools.repositoryRoot.appendingPathComponent("Tests/ImageTests/Manifests/\(name).toml")
        let built = try ImageTools.run(mkimage.path, [
            "build", "--manifest", manifest.path, "--binaries", binaries.path,
            "--loader", out.appendingPathComponent("efi/BOOTX64.EFI").path,
            "--kernel", out.appendingPathComponent("kernel.elf").path, "-o", image.path,
        ])
        XCTAssertEqual(built.status, 0, built.output)
        let arguments = [image.path, "--timeout", timeout]
        return onBochs ? try ImageTools.runBochsScript(arguments)
            : try ImageTools.runScript(arguments + (until.map { ["--until", $0] } ?? []) + devices.flatMap { ["--device", $0] }
                                       + extra)
    }
}
