import ArgumentParser
import Foundation

/// mkimage: checks a manifest and its binaries before anything boots, then writes the boot bundle and the EFI
/// system partition image (`mkimage --help`). Errors go to stderr, all of them, and the exit status is 1;
/// `--help` prints on stdout and exits 0.
do {
    var command = try Mkimage.parseAsRoot()
    try command.run()
} catch let error as MkimageError {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    exit(1)
} catch {
    if Mkimage.exitCode(for: error) == .success {
        print(Mkimage.fullMessage(for: error))
        exit(0)
    }
    let usage = Mkimage.fullMessage(for: error)
    FileHandle.standardError.write(Data(("mkimage: error: " + Mkimage.message(for: error) + "\n" +
                                         usage.components(separatedBy: "\n").filter { !$0.hasPrefix("Error:") }
                                             .joined(separator: "\n") + "\n").utf8))
    exit(1)
}
