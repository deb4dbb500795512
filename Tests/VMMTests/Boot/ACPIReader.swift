/// An independent reader of ACPI tables in guest memory for the tests: finds the RSDP the way Linux's scan does,
/// follows the XSDT, and decodes the few AML terms the guest's DSDT uses. It shares no code with the builder.
struct ACPIReader {
    let memory: TestRAM

    struct Table {
        var signature: String
        var address: Int
        var bytes: [UInt8]
        var length: Int { bytes.count }
        func u8(_ at: Int) -> UInt8 { bytes[at] }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
    }

    static func sum(_ bytes: ArraySlice<UInt8>) -> UInt8 { bytes.reduce(0, &+) }

    /// The RSDP's address: the first 16-byte boundary in 0xe0000-0xfffff with the signature and a valid checksum.
    func scanRSDP() -> Int? {
        for address in stride(from: 0xe_0000, to: 0x10_0000, by: 16)
        where memory.bytes[address..<address + 8].elementsEqual("RSD PTR ".utf8)
            && Self.sum(memory.bytes[address..<address + 20]) == 0 {
            return address
        }
        return nil
    }

    func table(at address: Int) -> Table {
        let length = Int(memory.u32(address + 4))
        return Table(signature: String(decoding: memory.bytes[address..<address + 4], as: UTF8.self), address: address,
                     bytes: Array(memory.bytes[address..<address + length]))
    }

    /// The XSDT's entries.
    func xsdtEntries(_ xsdt: Table) -> [Table] {
        stride(from: 36, to: xsdt.length, by: 8).map { table(at: Int(xsdt.u64($0))) }
    }

    /// A PkgLength at `at`: (the length it encodes, the bytes it takes).
    static func packageLength(_ bytes: [UInt8], _ at: Int) -> (Int, Int) {
        let lead = Int(bytes[at])
        let extra = lead >> 6
        guard extra > 0 else { return (lead & 0x3f, 1) }
        var length = lead & 0xf
        for i in 0..<extra { length |= Int(bytes[at + 1 + i]) << (4 + 8 * i) }
        return (length, 1 + extra)
    }

    /// An integer data object at `at`: (value, bytes taken), nil if it is none.
    static func integer(_ bytes: [UInt8], _ at: Int) -> (UInt64, Int)? {
        func le(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[at + 1 + $1]) << (8 * UInt64($1)) } }
        switch bytes[at] {
        case 0x00: return (0, 1)
        case 0x01: return (1, 1)
        case 0xff: return (UInt64.max, 1)
        case 0x0a: return (le(1), 2)
        case 0x0b: return (le(2), 3)
        case 0x0c: return (le(4), 5)
        case 0x0e: return (le(8), 9)
        default: return nil
        }
    }

    /// Where `Name(<name>, ...)` starts in `aml` (the NameOp's index), searching for the encoded name.
    static func find(_ name: [UInt8], in aml: [UInt8]) -> Int? {
        guard aml.count >= name.count + 1 else { return nil }
        for i in 0...(aml.count - name.count - 1) where aml[i] == 0x08 && Array(aml[(i + 1)..<(i + 1 + name.count)]) == name {
            return i
        }
        return nil
    }

    /// The integer elements of the package right after `Name(<name>,` at NameOp index `at`.
    static func integerPackage(_ aml: [UInt8], nameAt at: Int, nameLength: Int) -> [UInt64]? {
        var i = at + 1 + nameLength
        guard aml[i] == 0x12 else { return nil }
        let (length, lengthBytes) = packageLength(aml, i + 1)
        let end = i + 1 + length
        let count = Int(aml[i + 1 + lengthBytes])
        i += 2 + lengthBytes
        var values: [UInt64] = []
        while i < end {
            guard let (value, taken) = integer(aml, i) else { return nil }
            values.append(value)
            i += taken
        }
        return values.count == count ? values : nil
    }
}
