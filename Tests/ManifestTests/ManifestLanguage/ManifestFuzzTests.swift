import ManifestFormat
import ManifestLanguage
import XCTest

/// Seeded random inputs: the compiler and the blob decoder never crash, and always either succeed or explain why.
final class ManifestFuzzTests: XCTestCase {
    /// Characters that matter to the parser, so mutations reach deep into it.
    static let alphabet = Array("[]=\"'#,.\n\t {}\\0123456789xKMGT-_abcnrtu\r\u{00e9}")

    func assertWellFormed(_ result: Result<CompiledManifest, ManifestErrors>, _ context: @autoclosure () -> String) {
        switch result {
        case .success(let compiled):
            XCTAssertEqual(try? ManifestDecoder.decode(compiled.blob), compiled.system, context())
        case .failure(let errors):
            XCTAssertFalse(errors.diagnostics.isEmpty, context())
            for d in errors.diagnostics {
                XCTAssertTrue(d.line >= 1 && d.column >= 1 && !d.message.isEmpty, "\(context()): \(d)")
            }
            let d = errors.diagnostics
            XCTAssertTrue(zip(d, d.dropFirst()).allSatisfy { ($0.line, $0.column) <= ($1.line, $1.column) }, context())
        }
    }

    func testMutatedManifestsNeverCrash() throws {
        let golden = Array(try Corpus.text("golden.toml"))
        var rng = SeededGenerator(seed: 0x6d61_6e69_6665_7374)
        var accepted = 0
        for iteration in 0..<3000 {
            var text = golden
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<text.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: text[at] = Self.alphabet.randomElement(using: &rng)!
                case 1: text.insert(Self.alphabet.randomElement(using: &rng)!, at: at)
                case 2: text.removeSubrange(at..<min(text.count, at + Int.random(in: 1...20, using: &rng)))
                default:
                    // Duplicate a random line elsewhere.
                    let lines = String(text).split(separator: "\n", omittingEmptySubsequences: false)
                    let line = lines.randomElement(using: &rng)!
                    text.insert(contentsOf: Array(line + "\n"), at: at)
                }
                if text.isEmpty { text = ["#"] }
            }
            let result = Corpus.compileGolden(String(text))
            if case .success = result { accepted += 1 }
            assertWellFormed(result, "iteration \(iteration)")
        }
        // Some mutations (inside comments, say) must still be accepted: the test exercises both outcomes.
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(accepted, 3000)
    }

    func testRandomBytesNeverCrashTheCompiler() {
        var rng = SeededGenerator(seed: 42)
        for iteration in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let result = ManifestCompiler.compile(source: String(decoding: bytes, as: UTF8.self), file: "random.toml",
                                                  machineMemory: 1 << 30, binaryExists: { _ in true })
            guard case .failure(let errors) = result else { return XCTFail("random bytes accepted: \(bytes)") }
            XCTAssertFalse(errors.diagnostics.isEmpty, "iteration \(iteration)")
        }
    }

    func testRandomAndMutatedBlobsNeverCrashTheDecoder() throws {
        let golden = try Corpus.compileGolden(try Corpus.text("golden.toml")).get().blob
        var rng = SeededGenerator(seed: 7)
        var structuralErrors = 0
        for _ in 0..<3000 {
            var blob: [UInt8]
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                blob = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:
                // Random bytes behind a valid header shape, so the checks past the checksum run.
                blob = golden
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    blob[Int.random(in: BlobLayout.headerSize..<blob.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                blob = BlobFixtures.resealed(blob)
            default:
                blob = golden
                let at = Int.random(in: BlobLayout.componentCountOffset..<BlobLayout.headerSize, using: &rng)
                blob[at] = UInt8.random(in: 0...255, using: &rng)
                blob = BlobFixtures.resealed(blob)
            }
            do {
                let system = try ManifestDecoder.decode(blob)
                // Whatever decodes is a consistent system: encoding it again decodes to the same thing.
                XCTAssertEqual(try ManifestDecoder.decode(ManifestEncoder.encode(system)), system)
            } catch {
                XCTAssertFalse(error.description.isEmpty)
                if case .checksumMismatch = error {} else { structuralErrors += 1 }
            }
        }
        XCTAssertGreaterThan(structuralErrors, 1000)
    }
}
