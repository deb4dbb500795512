import Foundation
import ManifestFormat
import ManifestLanguage
import XCTest

/// Access to Tests/ManifestTests/Corpus (the golden manifest, its expected outputs, the mutation cases) and to
/// the repository's examples/.
enum Corpus {
    static var directory: URL { Bundle.module.url(forResource: "Corpus", withExtension: nil)! }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static var examplesDirectory: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")
    }

    /// The bundle modules the golden manifest may name.
    static let goldenBinaries: Set<String> = ["roottask", "serial", "ahci", "vmm", "hello", "bzImage", "initrd.img", "guest-test"]
    /// The bundle modules the examples may name (the list the image build provides).
    static let exampleBinaries: Set<String> = ["serial", "hello", "intruder", "vmm", "guest-test", "pci", "virtioblk", "blockcheck"]
    static let machineMemory: UInt64 = 2 << 30

    static func compileGolden(_ source: String) -> Result<CompiledManifest, ManifestErrors> {
        ManifestCompiler.compile(source: source, file: "golden.toml", machineMemory: machineMemory,
                                 binaryExists: { goldenBinaries.contains($0) })
    }
}

/// A deterministic pseudo-random generator (SplitMix64) so fuzz runs are reproducible from their seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
