/// The 36-byte header every ACPI description table starts with (signature, length, checksum over the whole
/// table) and the little-endian field reads the tables' parsers share (MADT, DMAR, MCFG): one check, so a table
/// is never read past the length its header declares.
public enum ACPITableHeader {
    /// What is wrong with a table's header, before any of its own fields are read.
    public enum Problem: Error, Equatable, Sendable {
        /// Fewer bytes than the table's fixed header (`headerSize`, which includes the 36 common bytes).
        case truncated(length: Int)
        case badSignature
        /// The declared length is shorter than the header or longer than the bytes given.
        case badLength(Int)
        case badChecksum
    }

    /// The table's declared length, once the signature, the length and the checksum hold.
    public static func check(_ table: [UInt8], signature: [UInt8], headerSize: Int) -> Result<Int, Problem> {
        guard table.count >= headerSize, table.count >= 8 else { return .failure(.truncated(length: table.count)) }
        guard table[0] == signature[0], table[1] == signature[1], table[2] == signature[2],
              table[3] == signature[3] else { return .failure(.badSignature) }
        let length = Int(u32(table, 4))
        guard length >= headerSize, length <= table.count else { return .failure(.badLength(length)) }
        var sum: UInt8 = 0
        for i in 0..<length { sum &+= table[i] }
        guard sum == 0 else { return .failure(.badChecksum) }
        return .success(length)
    }

    public static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    public static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
    public static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }
}

/// A table's error type names the header problems with its own cases (so its descriptions can name the table);
/// this one mapping turns a header check's problem into them.
public protocol ACPITableError: Error {
    static func truncated(length: Int) -> Self
    static var badSignature: Self { get }
    static func badLength(_ length: Int) -> Self
    static var badChecksum: Self { get }
}

extension ACPITableError {
    init(_ problem: ACPITableHeader.Problem) {
        switch problem {
        case .truncated(let n): self = .truncated(length: n)
        case .badSignature: self = .badSignature
        case .badLength(let n): self = .badLength(n)
        case .badChecksum: self = .badChecksum
        }
    }
}
