/// The guest's 16 general registers in x86 numbering, with x86's rules for narrow accesses: byte and word writes
/// merge into the register, the high-byte registers are bits 8-15 of rax-rbx, and 32-bit writes clear the upper
/// half in 64-bit mode (elsewhere the upper half is invisible to the guest and kept).
public struct GeneralRegisters: Equatable, Sendable {
    private var values: InlineArray<16, UInt64>

    public init() { values = InlineArray(repeating: 0) }

    /// From up to 16 values in x86 order (missing ones are zero, extra ones ignored).
    public init(_ list: [UInt64]) {
        self.init()
        for (number, value) in list.prefix(16).enumerated() { values[number] = value }
    }

    /// The whole 64-bit register `number` (only its low 4 bits count).
    public subscript(number: UInt8) -> UInt64 {
        get { values[Int(number & 15)] }
        set { values[Int(number & 15)] = newValue }
    }

    public func read(_ register: Register, width: DataWidth) -> UInt64 {
        let value = self[register.number]
        return register.isHighByte ? (value >> 8) & 0xff : width.truncate(value)
    }

    public mutating func write(_ register: Register, width: DataWidth, value: UInt64, mode: CodeMode) {
        let old = self[register.number]
        if register.isHighByte {
            self[register.number] = (old & ~0xff00) | ((value & 0xff) << 8)
        } else if width == .dword && mode == .bits64 {
            self[register.number] = value & 0xffff_ffff
        } else {
            self[register.number] = (old & ~width.mask) | width.truncate(value)
        }
    }

    public static func == (left: GeneralRegisters, right: GeneralRegisters) -> Bool {
        for number in 0..<16 where left.values[number] != right.values[number] { return false }
        return true
    }
}
