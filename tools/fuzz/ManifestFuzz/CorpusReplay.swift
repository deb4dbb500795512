import Foundation

/// The fuzz target without libFuzzer: runs the properties once on each file named (directories: each file in
/// them, sorted), prints how many, and exits non-zero if a path cannot be read. A violated property traps,
/// as it does under the fuzzer.
enum CorpusReplay {
    static func main(_ paths: [String]) {
        guard !paths.isEmpty else {
            print("usage: manifest-fuzz FILE|DIR... (replays inputs; tools/fuzz-manifest builds the fuzzer)")
            exit(2)
        }
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("manifest-fuzz: cannot read \(file)")
                    exit(1)
                }
                let bytes = [UInt8](data)
                ManifestTextProperty.check(bytes)
                ManifestBlobProperty.check(bytes)
                count += 1
            }
        }
        print("manifest-fuzz: \(count) inputs replayed, all properties hold")
    }

    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue
        }
    }
}
