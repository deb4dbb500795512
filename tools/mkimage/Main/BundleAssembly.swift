import BootFormat

/// The boot bundle: "roottask", then each component/VM binary the manifest names, then the "manifest" blob.
func assembleBundle(binaries: String, manifest: CompiledManifestParts?) throws(MkimageError) -> [UInt8] {
    var writer = BootBundleWriter()
    do {
        try writer.add(name: "roottask", data: try checkedBinary(named: "roottask", in: binaries))
        if let manifest {
            for name in manifest.binaries where name != "roottask" {
                try writer.add(name: name, data: try checkedBinary(named: name, in: binaries))
            }
            try writer.add(name: "manifest", data: manifest.blob)
        }
    } catch let error as BootBundleError {
        throw MkimageError("cannot build the boot bundle: \(error)")
    } catch let error as MkimageError {
        throw error
    } catch {
        throw MkimageError("cannot build the boot bundle: \(error)")
    }
    return writer.bytes()
}

/// What the bundle needs from a compiled manifest.
struct CompiledManifestParts {
    var binaries: [String]
    var blob: [UInt8]
}
