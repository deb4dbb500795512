import ArgumentParser
import Foundation
import ManifestLanguage

/// mkimage's command line (swift-argument-parser): `mkimage build|check|dot|benchmark`, each option
/// documented in `--help`; a missing or malformed option is named in the error.
struct Mkimage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mkimage",
        abstract: "Checks a system manifest and builds the boot image from it.",
        discussion: "Manifest errors are printed as file:line:column: error: message, all of them (docs/MANIFEST.md).",
        subcommands: [Build.self, Check.self, Dot.self, Benchmark.self])
}

/// Options every manifest command shares.
struct ManifestOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The manifest (TOML) to read.", valueName: "file"))
    var manifest: String?

    @Option(name: .long, help: ArgumentHelp(
        "RAM of the target machine (q35 + OVMF, the -m of tools/run), in bytes or with a K, M, G or T suffix.",
        valueName: "size"))
    var memory: MemorySize = MemorySize(bytes: 512 << 20)
}

/// `--memory`: a positive byte count, `512M` style suffixes allowed.
struct MemorySize: ExpressibleByArgument {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        guard let bytes = ManifestCompiler.size(argument), bytes > 0 else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { "512M" }
}

extension Mkimage {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks the manifest and every binary it names; builds nothing.")

        @OptionGroup var options: ManifestOptions

        @Option(name: .long, help: ArgumentHelp("Directory holding the binaries (roottask and each component's).",
                                                valueName: "dir"))
        var binaries: String?

        func validate() throws { try require(("--manifest", options.manifest), ("--binaries", binaries), command: "check") }

        func run() throws {
            let compiled = try compileManifest(at: options.manifest!, binaries: binaries, machineMemory: options.memory.bytes)
            _ = try checkedBinary(named: "roottask", in: binaries!)
            let data = dataModules(of: compiled.system)
            for name in compiled.binaries {
                if data.contains(name) { _ = try checkedModule(named: name, in: binaries!) } else { _ = try checkedBinary(named: name, in: binaries!) }
            }
            print("mkimage: \(options.manifest!): ok (\(compiled.binaries.count) binaries)")
        }
    }

    struct Dot: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Draws the manifest's composition as Graphviz DOT.")

        @OptionGroup var options: ManifestOptions

        @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The DOT file to write.", valueName: "file"))
        var output: String?

        func validate() throws { try require(("--manifest", options.manifest), ("-o", output), command: "dot") }

        func run() throws {
            let compiled = try compileManifest(at: options.manifest!, binaries: nil, machineMemory: options.memory.bytes)
            guard FileManager.default.createFile(atPath: output!, contents: Data(DotWriter.dot(compiled.system).utf8)) else {
                throw MkimageError("cannot write '\(output!)'")
            }
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Builds the EFI system partition image: loader, kernel and the boot bundle.",
            discussion: "Without --manifest the bundle holds only the root task (no manifest module).")

        @OptionGroup var options: ManifestOptions

        @Option(name: .long, help: ArgumentHelp("Directory holding the binaries (roottask and each component's).",
                                                valueName: "dir"))
        var binaries: String?

        @Option(name: .long, help: ArgumentHelp("The EFI loader (BOOTX64.EFI).", valueName: "file"))
        var loader: String?

        @Option(name: .long, help: ArgumentHelp("The kernel ELF image.", valueName: "file"))
        var kernel: String?

        @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The disk image to write.", valueName: "file"))
        var output: String?

        func validate() throws {
            try require(("--binaries", binaries), ("--loader", loader), ("--kernel", kernel), ("-o", output), command: "build")
        }

        func run() throws {
            var parts: CompiledManifestParts?
            if let manifest = options.manifest {
                let compiled = try compileManifest(at: manifest, binaries: binaries, machineMemory: options.memory.bytes)
                parts = CompiledManifestParts(binaries: compiled.binaries, blob: compiled.blob,
                                              dataModules: dataModules(of: compiled.system))
            }
            let kernelImage = try checkedKernel(at: kernel!)
            guard FileManager.default.fileExists(atPath: loader!) else {
                throw MkimageError("loader '\(loader!)' does not exist")
            }
            let bundle = try assembleBundle(binaries: binaries!, manifest: parts)
            try ESPImage.write(to: output!, loader: loader!, kernel: kernelImage, bundle: bundle)
            print("mkimage: wrote \(output!) (bundle \(bundle.count) bytes)")
        }
    }

    struct Benchmark: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints how long checking generated manifests takes (build with -c release for real figures).")

        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Component counts to check.", valueName: "n"))
        var components: [Int] = [1_000, 10_000, 100_000]

        func run() throws {
            for count in components {
                let figure = CheckBenchmark.run(components: count)
                print(figure.description)
            }
        }
    }
}

/// Options the command needs but the user left out, named together (option parsing itself cannot know them:
/// `build` without `--manifest` is valid).
func require(_ options: (String, String?)..., command: String) throws {
    let missing = options.filter { $0.1 == nil }.map { $0.0 }
    guard missing.isEmpty else { throw ValidationError("\(command) needs \(missing.joined(separator: ", "))") }
}
