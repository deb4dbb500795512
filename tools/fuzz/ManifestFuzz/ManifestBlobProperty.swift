import ManifestFormat

/// What must hold for any bytes the root task finds as its `manifest` module: its check (`ManifestDecoder`,
/// then `StartOrder` and `KernelQuota`, what it runs before building anything) returns a typed error or a
/// system that is consistent, never a trap. Each input is checked as it is and resealed (length and CRC-32
/// fixed), so mutations get past the checksum to the structural checks.
enum ManifestBlobProperty {
    static func check(_ bytes: [UInt8]) {
        decodeAndStart(bytes)
        if bytes.count >= BlobLayout.headerSize { decodeAndStart(resealed(bytes)) }
    }

    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var blob = bytes
        for i in 0..<4 { blob[BlobLayout.lengthOffset + i] = UInt8(truncatingIfNeeded: blob.count >> (8 * i)) }
        for i in 0..<4 { blob[BlobLayout.checksumOffset + i] = 0 }
        let crc = CRC32.checksum(blob)
        for i in 0..<4 { blob[BlobLayout.checksumOffset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return blob
    }

    static func decodeAndStart(_ blob: [UInt8]) {
        let system: SystemDescription
        do throws(ManifestDecodeError) {
            system = try ManifestDecoder.decode(blob)
        } catch {
            guard !error.description.isEmpty else { fatalError("a decode error without a description") }
            return
        }
        // The decoder's "every reference points backwards" is the promise that the stored order is a start order.
        guard (try? StartOrder.order(system)) == Array(system.components.indices) else {
            fatalError("a blob the decoder accepts is not in start order")
        }
        for i in system.components.indices {
            guard StartOrder.prerequisites(of: i, in: system).allSatisfy({ $0 < i }) else {
                fatalError("component \(i) of an accepted blob starts before a prerequisite")
            }
            guard KernelQuota.pages(forComponent: i, in: system) > 0 else { fatalError("component \(i) gets no kernel quota") }
        }
        guard (try? ManifestDecoder.decode(ManifestEncoder.encode(system))) == system else {
            fatalError("an accepted blob does not survive re-encoding")
        }
    }
}
