import ManifestFormat
import ManifestLanguage

/// What must hold for any bytes handed to mkimage as a manifest: the compiler returns, and either the system
/// it built survives its own encoding (and drawing), or it explains every problem as sorted, positioned,
/// one-line diagnostics. A violation traps, which the fuzzer reports as a crash with the input saved.
enum ManifestTextProperty {
    /// The bundle modules the fuzzed manifests may name (those of the golden manifest and the examples), so
    /// both "exists" and "does not exist" paths of the binary checks run.
    static let binaries: Set<String> = ["roottask", "serial", "ahci", "vmm", "hello", "intruder", "bzImage",
                                        "initrd.img", "guest-test"]

    static func check(_ bytes: [UInt8]) {
        let result = ManifestCompiler.compile(bytes: bytes, file: "fuzz.toml", machineMemory: 2 << 30,
                                              binaryExists: { binaries.contains($0) })
        switch result {
        case .success(let compiled):
            guard (try? ManifestDecoder.decode(compiled.blob)) == compiled.system else {
                fatalError("a compiled manifest does not decode to the system it was compiled from")
            }
            guard (try? StartOrder.order(compiled.system)) == Array(compiled.system.components.indices) else {
                fatalError("a compiled manifest's components are not in start order")
            }
            _ = DotWriter.dot(compiled.system)
        case .failure(let errors):
            check(errors.diagnostics)
        }
    }

    static func check(_ diagnostics: [Diagnostic]) {
        guard !diagnostics.isEmpty else { fatalError("a manifest was rejected without a diagnostic") }
        guard diagnostics.count <= ManifestLimits.maxDiagnostics + 1 else {
            fatalError("\(diagnostics.count) diagnostics, more than the limit of \(ManifestLimits.maxDiagnostics)")
        }
        var previous = (line: 1, column: 1)
        for d in diagnostics {
            guard d.line >= 1, d.column >= 1, !d.message.isEmpty else { fatalError("diagnostic without a position: \(d)") }
            guard (previous.line, previous.column) <= (d.line, d.column) else { fatalError("diagnostics out of order: \(d)") }
            guard d.message.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
                fatalError("a diagnostic that is not one line of printable ASCII: \(d.message.debugDescription)")
            }
            previous = (d.line, d.column)
        }
    }
}
