import BootFormat
import ManifestFormat

/// The boot bundle: "roottask", then each component/VM binary the manifest names, then the "manifest" blob.
func assembleBundle(binaries: String, manifest: CompiledManifestParts?) throws(MkimageError) -> [UInt8] {
    var writer = BootBundleWriter()
    do {
        try writer.add(name: "roottask", data: try checkedBinary(named: "roottask", in: binaries))
        if let manifest {
            for name in manifest.binaries where name != "roottask" {
                let data = manifest.dataModules.contains(name) ? try checkedModule(named: name, in: binaries)
                                                               : try checkedBinary(named: name, in: binaries)
                try writer.add(name: name, data: data)
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
    /// Modules that are data, not ELF executables (`dataModules(of:)`).
    var dataModules: Set<String> = []
}

/// A kernel VM's kernel, initrd and disk are the guest's bytes (a bzImage, a cpio archive, a disk image), which
/// the VMM checks; only component binaries and test images must be ELF executables.
func dataModules(of system: SystemDescription) -> Set<String> {
    var names: Set<String> = []
    for vm in system.vms {
        if case .kernel(let kernel, let initrd, _) = vm.image {
            names.insert(kernel.description)
            if let initrd { names.insert(initrd.description) }
        }
        if let disk = vm.disk { names.insert(disk.description) }
    }
    return names
}
