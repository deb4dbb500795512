/// An instruction's opcode as errors name it: the opcode byte(s) after the prefixes and, for opcodes whose ModRM reg
/// field selects the operation (groups such as 80-83, F6/F7, FE/FF, 0F BA), that field: "f6 /4", "0f a2", "63".
public struct Opcode: Equatable, Sendable {
    /// Whether the opcode is in the two-byte map (follows 0F).
    public let isTwoByte: Bool
    public let byte: UInt8
    public let groupField: UInt8?

    public init(twoByte: Bool = false, _ byte: UInt8, group: UInt8? = nil) {
        isTwoByte = twoByte
        self.byte = byte
        groupField = group
    }

    public var description: String {
        var text = isTwoByte ? "0f " + Self.hex(byte) : Self.hex(byte)
        if let groupField { text += " /" + String(groupField) }
        return text
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }
}
