/// A memory operand: segment:[base + index * scale + displacement], or [rip + displacement] (64-bit mode), with the
/// address size it is computed in. Registers are x86 numbers read at the address size. The one place that turns
/// it into an address is `effectiveAddress` (and `linearAddress` on top of it): the emulator and the VMM's exit
/// handler both go through it, so they cannot disagree on wrapping.
public struct MemoryOperand: Equatable, Sendable {
    /// The segment the access goes through: the override prefix when one applies, else the default (SS for
    /// bases rsp and rbp, ES for the string destination, DS otherwise).
    public var segment: Segment
    public var base: UInt8?
    public var index: UInt8?
    /// 1, 2, 4 or 8; 1 when there is no index.
    public var scale: UInt8
    /// Sign-extended to 64 bits (a moffs offset zero-extended); only its low address-size bits matter.
    public var displacement: UInt64
    /// The address is relative to the next instruction's (in 32-bit address size: its eip).
    public var isRIPRelative: Bool
    public var addressWidth: DataWidth

    public init(segment: Segment, base: UInt8? = nil, index: UInt8? = nil, scale: UInt8 = 1, displacement: UInt64 = 0,
                isRIPRelative: Bool = false, addressWidth: DataWidth) {
        self.segment = segment
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
        self.isRIPRelative = isRIPRelative
        self.addressWidth = addressWidth
    }

    /// The offset in the segment, wrapped to the address size; `adjustment` is added before wrapping (bit-string
    /// offsets of BT, the element size of later string iterations are not: those move rsi/rdi instead).
    public func effectiveAddress(registers: GeneralRegisters, nextInstruction: UInt64,
                                 adjustment: UInt64 = 0) -> UInt64 {
        var sum = displacement &+ adjustment
        if isRIPRelative { sum &+= nextInstruction }
        if let base { sum &+= registers[base] }
        if let index { sum &+= registers[index] &* UInt64(scale) }
        return addressWidth.truncate(sum)
    }

    /// The linear address of the effective address `offset` in `mode`: in 64-bit mode only FS and GS have a base,
    /// in the other modes every segment has one and the sum wraps at 4 GiB. Segment limits are not checked.
    public func linearAddress(offset: UInt64, mode: CodeMode, segmentBases: SegmentBases) -> UInt64 {
        switch mode {
        case .bits64: segment == .fs || segment == .gs ? segmentBases[segment] &+ offset : offset
        case .bits16, .bits32: (segmentBases[segment] &+ offset) & 0xffff_ffff
        }
    }
}
