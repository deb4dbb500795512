import Foundation

/// The VM test images of `VMM/Guests/<name>.S`, assembled and linked at test time exactly as tools/build-image
/// does (gcc's assembler and ld with VMM/Guests/guest.ld here; clang and ld.lld there), cached per source text.
enum VMMGuests {
    struct BuildError: Error, CustomStringConvertible { var description: String }

    static func elf(_ name: String) throws -> [UInt8] {
        let guests = SimBoot.repositoryRoot().appendingPathComponent("VMM/Guests")
        let source = guests.appendingPathComponent("\(name).S")
        let text = try String(contentsOf: source, encoding: .utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmmguest-\(name)-\(String(hash, radix: 16))")
        let elf = dir.appendingPathComponent("guest.elf")
        if !FileManager.default.fileExists(atPath: elf.path) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let object = dir.appendingPathComponent("guest.o").path
            try run("gcc", ["-c", "-nostdlib", "-o", object, source.path])
            let partial = dir.appendingPathComponent("guest.tmp").path
            try run("ld", ["-nostdlib", "-static", "-T", guests.appendingPathComponent("guest.ld").path,
                           "-z", "max-page-size=4096", "-o", partial, object])
            try FileManager.default.moveItem(atPath: partial, toPath: elf.path)
        }
        return [UInt8](try Data(contentsOf: elf))
    }

    /// A bzImage-shaped test kernel of `VMM/Guests/bzImage/<name>.S` (a setup header, then 64-bit code), built
    /// flat: gcc's assembler, then objcopy -O binary of its one section. Cached per source text.
    static func bzImage(_ name: String) throws -> [UInt8] {
        let source = SimBoot.repositoryRoot().appendingPathComponent("VMM/Guests/bzImage/\(name).S")
        let text = try String(contentsOf: source, encoding: .utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmmbzimage-\(name)-\(String(hash, radix: 16))")
        let image = dir.appendingPathComponent("bzImage")
        if !FileManager.default.fileExists(atPath: image.path) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let object = dir.appendingPathComponent("guest.o").path
            try run("gcc", ["-c", "-nostdlib", "-o", object, source.path])
            let partial = dir.appendingPathComponent("bzImage.tmp").path
            try run("objcopy", ["-O", "binary", "-j", ".text", object, partial])
            try FileManager.default.moveItem(atPath: partial, toPath: image.path)
        }
        return [UInt8](try Data(contentsOf: image))
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BuildError(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(output)")
        }
        return output
    }
}
