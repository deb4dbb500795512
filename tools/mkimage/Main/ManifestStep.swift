import Foundation
import ManifestLanguage

/// Reads and compiles the manifest; every diagnostic is kept. `binaries` (when given) is where each binary the
/// manifest names must exist.
func compileManifest(at path: String, binaries: String?, machineMemory: UInt64) throws(MkimageError)
    -> CompiledManifest {
    let bytes = try readFile(path, what: "manifest")
    let exists: (String) -> Bool = { name in
        guard let binaries else { return true }
        return FileManager.default.fileExists(atPath: (binaries as NSString).appendingPathComponent(name))
    }
    switch ManifestCompiler.compile(bytes: bytes, file: path, machineMemory: machineMemory, binaryExists: exists) {
    case .success(let compiled): return compiled
    case .failure(let errors): throw MkimageError(lines: errors.diagnostics.map { $0.description })
    }
}
