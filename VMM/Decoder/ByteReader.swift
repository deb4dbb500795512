/// Reads an instruction's bytes front to back and enforces the two ways bytes can run out: the input ends before
/// the instruction does (`truncated`), or the instruction would be longer than the 15 bytes x86 allows
/// (`longerThan15Bytes`, #GP on hardware).
struct ByteReader<Bytes: RandomAccessCollection<UInt8>> {
    static var maximumLength: Int { 15 }

    let bytes: Bytes
    private(set) var position = 0

    init(_ bytes: Bytes) { self.bytes = bytes }

    /// The next byte, without consuming it.
    func peek() throws(DecodeError) -> UInt8 {
        guard position < Self.maximumLength else { throw .longerThan15Bytes }
        guard position < bytes.count else { throw .truncated(available: bytes.count) }
        return bytes[bytes.index(bytes.startIndex, offsetBy: position)]
    }

    /// Consumes a byte `peek` returned.
    mutating func skip() { position += 1 }

    mutating func byte() throws(DecodeError) -> UInt8 {
        let value = try peek()
        position += 1
        return value
    }

    /// A little-endian value of `width`, zero-extended.
    mutating func value(_ width: DataWidth) throws(DecodeError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: width.bits, by: 8) { value |= UInt64(try byte()) << UInt64(shift) }
        return value
    }
}
