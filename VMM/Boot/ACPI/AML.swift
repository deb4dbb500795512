/// Just enough of the ACPI Machine Language encoder (ACPI 6.5, chapter 20) for the guest's DSDT: names, integers,
/// packages, buffers, scopes and devices. Each function returns the encoded bytes of one term.
public enum AML {
    static let zeroOp: UInt8 = 0x00, oneOp: UInt8 = 0x01, nameOp: UInt8 = 0x08
    static let bytePrefix: UInt8 = 0x0a, wordPrefix: UInt8 = 0x0b, dwordPrefix: UInt8 = 0x0c, qwordPrefix: UInt8 = 0x0e
    static let scopeOp: UInt8 = 0x10, bufferOp: UInt8 = 0x11, packageOp: UInt8 = 0x12
    static let extOpPrefix: UInt8 = 0x5b, deviceOp: UInt8 = 0x82
    static let rootChar: UInt8 = 0x5c  // "\"

    /// PkgLength: the length of what follows it *including itself*, in 1 to 4 bytes (20.2.4).
    public static func packageLength(enclosing contentLength: Int) -> [UInt8] {
        if contentLength + 1 <= 0x3f { return [UInt8(contentLength + 1)] }
        for extra in 1...3 {
            let total = contentLength + 1 + extra
            guard total < 1 << (4 + 8 * extra) else { continue }
            var bytes = [UInt8(extra << 6) | UInt8(total & 0xf)]
            for i in 0..<extra { bytes.append(UInt8(truncatingIfNeeded: total >> (4 + 8 * i))) }
            return bytes
        }
        return [0xff]  // beyond 2^28 bytes: no table of ours comes near (the caller's table checks catch it)
    }

    /// A NameString: an optional root prefix "\" and one 4-character NameSeg, padded with "_".
    public static func name(_ text: String) -> [UInt8] {
        var bytes = [UInt8](text.utf8)
        var result: [UInt8] = []
        if bytes.first == rootChar {
            result.append(rootChar)
            bytes.removeFirst()
        }
        var segment = [UInt8](bytes.prefix(4))
        while segment.count < 4 { segment.append(0x5f) }
        return result + segment
    }

    /// The shortest integer encoding of `value` (ZeroOp, OneOp or a prefixed constant).
    public static func integer(_ value: UInt64) -> [UInt8] {
        if value == 0 { return [zeroOp] }
        if value == 1 { return [oneOp] }
        if value <= 0xff { return [bytePrefix, UInt8(value)] }
        if value <= 0xffff { return [wordPrefix] + LittleEndianBytes.encode(value, width: 2) }
        if value <= 0xffff_ffff { return [dwordPrefix] + LittleEndianBytes.encode(value, width: 4) }
        return [qwordPrefix] + LittleEndianBytes.encode(value, width: 8)
    }

    /// An EISA id ("PNP0A03") as the 32-bit compressed form _HID expects.
    public static func eisaID(_ id: String) -> [UInt8] {
        let c = [UInt8](id.utf8)
        guard c.count == 7 else { return integer(0) }
        func letter(_ b: UInt8) -> UInt32 { UInt32(b &- 0x40) & 0x1f }
        func digit(_ b: UInt8) -> UInt32 { UInt32(b >= 0x41 ? b &- 0x41 &+ 10 : b &- 0x30) & 0xf }
        let vendor = letter(c[0]) << 10 | letter(c[1]) << 5 | letter(c[2])
        let product = digit(c[3]) << 12 | digit(c[4]) << 8 | digit(c[5]) << 4 | digit(c[6])
        // Stored big-endian: vendor's two bytes, then the product's.
        let value = UInt64(vendor >> 8) | UInt64(vendor & 0xff) << 8 | UInt64(product >> 8) << 16 | UInt64(product & 0xff) << 24
        return [dwordPrefix] + LittleEndianBytes.encode(value, width: 4)
    }

    /// Name(name, object)
    public static func nameObject(_ name: String, _ object: [UInt8]) -> [UInt8] {
        [nameOp] + self.name(name) + object
    }

    /// Package(){elements}; each element an encoded data object.
    public static func package(_ elements: [[UInt8]]) -> [UInt8] {
        let body = [UInt8(truncatingIfNeeded: elements.count)] + elements.flatMap { $0 }
        return [packageOp] + packageLength(enclosing: body.count) + body
    }

    /// Buffer(){bytes}
    public static func buffer(_ bytes: [UInt8]) -> [UInt8] {
        let body = integer(UInt64(bytes.count)) + bytes
        return [bufferOp] + packageLength(enclosing: body.count) + body
    }

    /// Scope(name){terms}
    public static func scope(_ name: String, _ terms: [[UInt8]]) -> [UInt8] {
        let body = self.name(name) + terms.flatMap { $0 }
        return [scopeOp] + packageLength(enclosing: body.count) + body
    }

    /// Device(name){terms}
    public static func device(_ name: String, _ terms: [[UInt8]]) -> [UInt8] {
        let body = self.name(name) + terms.flatMap { $0 }
        return [extOpPrefix, deviceOp] + packageLength(enclosing: body.count) + body
    }
}
