import Foundation

/// Writes a FAT EFI system partition image with mtools: EFI/BOOT/BOOTX64.EFI, hv/kernel.elf, hv/bundle.bin.
enum ESPImage {
    static func write(to path: String, loader: String, kernel: [UInt8], bundle: [UInt8]) throws(MkimageError) {
        let fm = FileManager.default
        let staging = NSTemporaryDirectory() + "mkimage-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: true) } catch {
            throw MkimageError("cannot create staging directory '\(staging)': \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: staging) }
        let kernelFile = staging + "/kernel.elf", bundleFile = staging + "/bundle.bin"
        guard fm.createFile(atPath: kernelFile, contents: Data(kernel)),
              fm.createFile(atPath: bundleFile, contents: Data(bundle)) else {
            throw MkimageError("cannot write staging files in '\(staging)'")
        }
        let loaderSize = (try? fm.attributesOfItem(atPath: loader)[.size] as? UInt64) ?? 0
        // Room for the files plus FAT overhead, at least 4 MiB, in whole MiB.
        let needed = UInt64(kernel.count + bundle.count) + loaderSize
        let megabytes = max(4, (needed * 5 / 4 + (2 << 20)) >> 20)
        try? fm.removeItem(atPath: path)
        guard fm.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw MkimageError("cannot create image '\(path)'")
        }
        do {
            try handle.truncate(atOffset: megabytes << 20)
            try handle.close()
        } catch {
            throw MkimageError("cannot size image '\(path)': \(error.localizedDescription)")
        }
        let image = path
        try run("mformat", ["-i", image, "-v", "HVBOOT", "::"])
        try run("mmd", ["-i", image, "::/EFI", "::/EFI/BOOT", "::/hv"])
        try run("mcopy", ["-i", image, loader, "::/EFI/BOOT/BOOTX64.EFI"])
        try run("mcopy", ["-i", image, kernelFile, "::/hv/kernel.elf"])
        try run("mcopy", ["-i", image, bundleFile, "::/hv/bundle.bin"])
    }

    private static func run(_ tool: String, _ arguments: [String]) throws(MkimageError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        do { try process.run() } catch {
            throw MkimageError("cannot run \(tool) (install mtools): \(error.localizedDescription)")
        }
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MkimageError("\(tool) \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus)): "
                               + output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
