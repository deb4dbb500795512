/// The part of a vCPU's state the emulator reads and changes: the general registers, rip, rflags, and the segment
/// bases that turn effective addresses into linear ones.
public struct GuestCPUState: Equatable, Sendable {
    public var registers: GeneralRegisters
    public var rip: UInt64
    public var rflags: UInt64
    public var segmentBases: SegmentBases

    public init(registers: GeneralRegisters = GeneralRegisters(), rip: UInt64 = 0, rflags: UInt64 = 0x2,
                segmentBases: SegmentBases = SegmentBases()) {
        self.registers = registers
        self.rip = rip
        self.rflags = rflags
        self.segmentBases = segmentBases
    }
}
