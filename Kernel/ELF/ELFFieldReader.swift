/// Little-endian field access over a byte reader. Callers check bounds against `size` first; reading past the end
/// yields zero bytes instead of calling the reader, so a missed check can never read outside the file.
struct ELFFieldReader {
    let size: UInt64
    let byteAt: (UInt64) -> UInt8

    func u8(_ offset: UInt64) -> UInt8 { offset < size ? byteAt(offset) : 0 }

    func little(_ offset: UInt64, bytes: UInt64) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<bytes { value |= UInt64(u8(offset &+ i)) << (8 * i) }
        return value
    }

    func u16(_ offset: UInt64) -> UInt16 { UInt16(little(offset, bytes: 2)) }
    func u32(_ offset: UInt64) -> UInt32 { UInt32(little(offset, bytes: 4)) }
    func u64(_ offset: UInt64) -> UInt64 { little(offset, bytes: 8) }
}
