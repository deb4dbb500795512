/// The rflags bits the emulated instructions read or write.
public enum RFlags {
    public static let carry: UInt64 = 1 << 0
    public static let parity: UInt64 = 1 << 2
    public static let adjust: UInt64 = 1 << 4
    public static let zero: UInt64 = 1 << 6
    public static let sign: UInt64 = 1 << 7
    public static let direction: UInt64 = 1 << 10
    public static let overflow: UInt64 = 1 << 11

    /// CF, PF, AF, ZF, SF, OF: what the arithmetic instructions set.
    public static let status: UInt64 = carry | parity | adjust | zero | sign | overflow
}
