/// Bounds-checked reads from the record area of a compiled manifest; string references are resolved against the
/// string table and checked. Every failure is a `ManifestDecodeError` naming the offset.
struct BlobReader {
    let bytes: [UInt8]
    /// Next byte to read.
    var offset: Int
    /// End of the record area (the string table's offset).
    let end: Int
    let stringTable: Range<Int>

    /// Throws unless `count` entries of `size` bytes fit before the end of the records.
    func require(_ count: Int, of size: Int, _ what: BlobField) throws(ManifestDecodeError) {
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, total <= end - offset else { throw .recordOverrun(offset: offset, what: what) }
    }

    mutating func u32(_ what: BlobField) throws(ManifestDecodeError) -> UInt32 {
        try require(1, of: 4, what)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return value
    }

    mutating func u64(_ what: BlobField) throws(ManifestDecodeError) -> UInt64 {
        try require(1, of: 8, what)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return value
    }

    /// Reads a count and checks that that many entries of `size` bytes can still follow.
    mutating func count(_ what: BlobField) throws(ManifestDecodeError) -> Int { Int(try u32(what)) }

    /// Reads a string reference; `optional` strings may be empty.
    mutating func string(_ what: BlobField, optional: Bool = false) throws(ManifestDecodeError) -> ManifestString {
        let at = offset
        let start = Int(try u32(what))
        let length = Int(try u32(what))
        if length == 0 {
            guard optional else { throw .emptyString(offset: at, what: what) }
            return ManifestString(bytes: [])
        }
        guard start <= stringTable.count, length <= stringTable.count - start else {
            throw .stringOutOfTable(offset: at, what: what)
        }
        let text = Array(bytes[(stringTable.lowerBound + start)..<(stringTable.lowerBound + start + length)])
        for byte in text where !ManifestString.isPrintable(byte) { throw .stringNotPrintable(offset: at, what: what) }
        return ManifestString(bytes: text)
    }
}
