import ManifestFormat
import ManifestLanguage
import XCTest

/// The root task's check of the compiled manifest (`ManifestDecoder.decode`, then `StartOrder` and
/// `KernelQuota`, what `prepare` and `startAll` run) on fuzzed blobs: a typed error or a system whose start
/// order exists, never a trap. Seeded mutations of a real blob, resealed so the checks past the checksum run.
final class ManifestBlobFuzzTests: XCTestCase {
    func testFuzzedBlobsNeverTrapTheRootTasksCheck() throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/two-tenant.toml"), encoding: .utf8)
        let golden = try ManifestCompiler.compile(source: source, file: "two-tenant.toml", machineMemory: 512 << 20,
                                                  binaryExists: { _ in true }).get().blob
        var state: UInt64 = 0x626c_6f62
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        var decoded = 0, rejected = 0
        for _ in 0..<4000 {
            var blob = golden
            for _ in 0..<(1 + Int(next() % 6)) {
                let at = BlobLayout.componentCountOffset + Int(next() % UInt64(blob.count - BlobLayout.componentCountOffset))
                blob[at] = next() % 4 == 0 ? UInt8(next() % 3) : UInt8(truncatingIfNeeded: next())
            }
            if next() % 8 == 0 { blob.removeLast(Int(next() % 16)) }
            // Reseal: the length and checksum match, so every later check is exercised.
            for i in 0..<4 { blob[BlobLayout.lengthOffset + i] = UInt8(truncatingIfNeeded: blob.count >> (8 * i)) }
            for i in 0..<4 { blob[BlobLayout.checksumOffset + i] = 0 }
            let crc = CRC32.checksum(blob)
            for i in 0..<4 { blob[BlobLayout.checksumOffset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            do {
                let system = try ManifestDecoder.decode(blob)
                let order = try StartOrder.order(system)
                XCTAssertEqual(order.sorted(), Array(system.components.indices))
                for i in system.components.indices {
                    XCTAssertTrue(StartOrder.prerequisites(of: i, in: system).allSatisfy { $0 < i })
                    XCTAssertGreaterThan(KernelQuota.pages(forComponent: i, in: system), 0)
                }
                decoded += 1
            } catch let error as ManifestDecodeError {
                XCTAssertFalse(error.description.isEmpty)
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(decoded, 0)
    }
}
