import ELFFormat
import Foundation

/// Reads a file the image will contain, naming it in every error.
func readFile(_ path: String, what: String) throws(MkimageError) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw MkimageError("\(what) '\(path)' does not exist or cannot be read")
    }
    return [UInt8](data)
}

/// Loads a binary from the binaries directory and checks it is an x86-64 ELF executable the loaders accept.
func checkedBinary(named name: String, in directory: String) throws(MkimageError) -> [UInt8] {
    let path = (directory as NSString).appendingPathComponent(name)
    let bytes = try readFile(path, what: "binary")
    do {
        _ = try ELFImage(bytes: bytes)
    } catch {
        throw MkimageError("binary '\(path)' is not a loadable x86-64 ELF executable: \(error)")
    }
    return bytes
}

/// Loads a data module (a guest kernel, initrd or disk): any bytes, but not none.
func checkedModule(named name: String, in directory: String) throws(MkimageError) -> [UInt8] {
    let path = (directory as NSString).appendingPathComponent(name)
    let bytes = try readFile(path, what: "module")
    guard !bytes.isEmpty else { throw MkimageError("module '\(path)' is empty") }
    return bytes
}

/// Checks the kernel image: an x86-64 ELF executable (the loader checks its physical placement at boot).
func checkedKernel(at path: String) throws(MkimageError) -> [UInt8] {
    let bytes = try readFile(path, what: "kernel")
    do {
        _ = try ELFImage(bytes: bytes)
    } catch {
        throw MkimageError("kernel '\(path)' is not a loadable x86-64 ELF executable: \(error)")
    }
    return bytes
}
