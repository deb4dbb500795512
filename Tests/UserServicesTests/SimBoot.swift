import BootFormat
import Foundation
import HelloComponent
import IntruderComponent
import KernelABI
import ManifestLanguage
import RootTask
import SerialDriver
import Sim
import UserRuntime
import VMM

/// Boots manifests on the simulator with the real kernel, the real root task and the real components.
enum SimBoot {
    static let root = SimProgram(name: "roottask", entries: [
        { p, rdi in rootTaskMain(p, startInfo: rdi) },
        { p, rdi in rootTaskPortal(p, startInfo: rdi) },
    ])
    static let serial = SimProgram(name: "serial", entries: [
        { p, rdi in serialDriverMain(p, startInfo: rdi) },
        { p, rdi in serialLogPortal(p, startInfo: rdi) },
    ])
    static let hello = SimProgram(name: "hello", main: { p, rdi in helloMain(p, startInfo: rdi) })
    static let intruder = SimProgram(name: "intruder", main: { p, rdi in intruderMain(p, startInfo: rdi) })
    static let vmm = SimProgram(name: "vmm", entries: [{ p, rdi in vmmMain(p, startInfo: rdi) }]
                                + (0..<8).map { h in { p, _ in vmmExitPortal(p, handler: h) } })
    static let components = [serial, hello, intruder]

    static func repositoryRoot(file: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: file)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(file)")
    }

    static func example(_ name: String) throws -> String {
        try String(contentsOf: repositoryRoot().appendingPathComponent("examples/\(name)"), encoding: .utf8)
    }

    struct CompileFailure: Error, CustomStringConvertible { var description: String }

    static func compile(_ source: String, file: String = "test.toml", machineMemory: UInt64 = 64 << 20,
                        knownBinaries: Set<String> = Set(components.map(\.name))) throws -> [UInt8] {
        let names = knownBinaries
        switch ManifestCompiler.compile(source: source, file: file, target: .simulator(memory: machineMemory),
                                        binaryExists: { names.contains($0) }) {
        case .success(let compiled): return compiled.blob
        case .failure(let errors): throw CompileFailure(description: errors.diagnostics.map(\.description).joined(separator: "\n"))
        }
    }

    /// A system whose bundle holds the root task, the given programs and `manifest` as the "manifest" module.
    /// `guests` are VM test images (VMM/Guests) bundled under their names.
    /// `modules` are further bundle modules (a Linux guest's kernel, initrd, disk) with their bytes.
    static func system(manifest: [UInt8], programs: [SimProgram] = components, guests: [String] = [],
                       modules extra: [(String, [UInt8])] = [], memorySize: UInt64 = 64 << 20,
                       deviceMemory: [PhysicalRange] = []) throws -> SimSystem {
        var options = SimSystem.Options()
        options.memorySize = memorySize
        options.deviceMemory = deviceMemory
        var modules: [(String, [UInt8])] = [("manifest", manifest)]
        for guest in guests { modules.append((guest, try VMMGuests.elf(guest))) }
        modules += extra
        return try SimSystem(root: root, programs: programs, extraModules: modules, options: options)
    }
}
