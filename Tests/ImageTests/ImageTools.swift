import Foundation

/// Runs the project's image scripts (tools/run, tools/run-bochs, mkimage) from the repository root and captures
/// their output.
enum ImageTools {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// tools/run: QEMU (AMD SVM), through OVMF and the EFI loader.
    static func runScript(_ arguments: [String]) throws -> Result {
        try run(repositoryRoot.appendingPathComponent("tools/run").path, arguments)
    }

    /// tools/run-bochs: Bochs (Intel VMX), through GRUB and the kernel's multiboot2 entry.
    static func runBochsScript(_ arguments: [String]) throws -> Result {
        try run(repositoryRoot.appendingPathComponent("tools/run-bochs").path, arguments)
    }
}
