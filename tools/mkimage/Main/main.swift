import Foundation
import ManifestLanguage

/// mkimage: checks a manifest and its binaries before anything boots, then writes the boot bundle and the EFI
/// system partition image (see Options.usage). Errors go to stderr, all of them, and the exit status is 1.
func runMkimage(_ arguments: [String]) throws(MkimageError) {
    let options = try Options(arguments)
    switch options.command {
    case .check:
        let compiled = try compileManifest(at: options.manifest!, binaries: options.binaries,
                                           machineMemory: options.machineMemory)
        _ = try checkedBinary(named: "roottask", in: options.binaries!)
        for name in compiled.binaries { _ = try checkedBinary(named: name, in: options.binaries!) }
        print("mkimage: \(options.manifest!): ok (\(compiled.binaries.count) binaries)")
    case .dot:
        let compiled = try compileManifest(at: options.manifest!, binaries: nil, machineMemory: options.machineMemory)
        let dot = DotWriter.dot(compiled.system)
        guard FileManager.default.createFile(atPath: options.output!, contents: Data(dot.utf8)) else {
            throw MkimageError("cannot write '\(options.output!)'")
        }
    case .build:
        var parts: CompiledManifestParts?
        if let manifest = options.manifest {
            let compiled = try compileManifest(at: manifest, binaries: options.binaries,
                                               machineMemory: options.machineMemory)
            parts = CompiledManifestParts(binaries: compiled.binaries, blob: compiled.blob)
        }
        let kernel = try checkedKernel(at: options.kernel!)
        guard FileManager.default.fileExists(atPath: options.loader!) else {
            throw MkimageError("loader '\(options.loader!)' does not exist")
        }
        let bundle = try assembleBundle(binaries: options.binaries!, manifest: parts)
        try ESPImage.write(to: options.output!, loader: options.loader!, kernel: kernel, bundle: bundle)
        print("mkimage: wrote \(options.output!) (bundle \(bundle.count) bytes)")
    }
}

do {
    try runMkimage(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    exit(1)
}
