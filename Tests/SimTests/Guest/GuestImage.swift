import Foundation

/// A test guest assembled from `Guests/<name>.S` at test time (binutils: gcc's preprocessor + as, ld, objcopy, nm),
/// linked at `base`: its flat bytes and its symbols. Built once per source text into the temporary directory.
struct GuestImage {
    static let base: UInt64 = 0x10000
    let bytes: [UInt8]
    let symbols: [String: UInt64]

    subscript(_ symbol: String) -> UInt64 {
        guard let address = symbols[symbol] else { fatalError("guest has no symbol \(symbol)") }
        return address
    }

    enum BuildError: Error, CustomStringConvertible {
        case tool(String, String)
        var description: String {
            if case .tool(let command, let output) = self { return "\(command) failed: \(output)" }
            return ""
        }
    }

    static func build(_ name: String) throws -> GuestImage {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Guests/\(name).S")
        let text = try String(contentsOf: source, encoding: .utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simguest-\(name)-\(String(hash, radix: 16))")
        let bin = dir.appendingPathComponent("guest.bin"), syms = dir.appendingPathComponent("guest.nm")
        if !FileManager.default.fileExists(atPath: syms.path) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let obj = dir.appendingPathComponent("guest.o").path, elf = dir.appendingPathComponent("guest.elf").path
            try run("gcc", ["-c", "-nostdlib", "-o", obj, source.path])
            try run("ld", ["-N", "-Ttext=0x\(String(base, radix: 16))", "-e", "0", "-o", elf, obj])
            try run("objcopy", ["-O", "binary", elf, bin.path])
            let table = try run("nm", [elf])
            try table.write(to: syms.appendingPathExtension("tmp"), atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(at: syms)
            try FileManager.default.moveItem(at: syms.appendingPathExtension("tmp"), to: syms)
        }
        var symbols: [String: UInt64] = [:]
        for line in try String(contentsOf: syms, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let value = UInt64(parts[0], radix: 16) { symbols[String(parts[2])] = value }
        }
        return GuestImage(bytes: [UInt8](try Data(contentsOf: bin)), symbols: symbols)
    }

    @discardableResult
    private static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BuildError.tool("\(tool) \(arguments.joined(separator: " "))", output) }
        return output
    }
}
