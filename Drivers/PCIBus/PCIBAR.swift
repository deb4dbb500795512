/// One base address register as the firmware left it: I/O ports or memory, where and how large. A 64-bit memory
/// BAR takes two slots; `index` is the first.
public struct PCIBAR: Equatable, Sendable {
    public enum Kind: UInt8, Equatable, Sendable { case io = 1, memory32 = 2, memory64 = 3 }

    public var index: Int
    public var kind: Kind
    public var base: UInt64
    public var size: UInt64
    public var prefetchable: Bool

    public init(index: Int, kind: Kind, base: UInt64, size: UInt64, prefetchable: Bool = false) {
        self.index = index
        self.kind = kind
        self.base = base
        self.size = size
        self.prefetchable = prefetchable
    }

    public var isIO: Bool { kind == .io }
    public var end: UInt64 { base &+ size }

    /// Sizes every BAR of a type-0 function the classic way: decoding off, write all ones, read the mask back,
    /// restore the original value, decoding back as it was. Unimplemented BARs (mask 0) are left out; so is a BAR
    /// the firmware left unassigned (base 0), which nothing could use without moving it.
    public static func probe<C: PCIConfigAccess>(_ config: C, _ a: PCIAddress) -> [PCIBAR] {
        let command = config.read16(a, PCIConfig.command)
        config.write16(a, PCIConfig.command, command & ~(PCIConfig.commandIO | PCIConfig.commandMemory))
        defer { config.write16(a, PCIConfig.command, command) }
        var result: [PCIBAR] = []
        var i = 0
        while i < PCIConfig.barCount {
            let offset = PCIConfig.firstBAR + UInt8(i * 4)
            let original = config.read32(a, offset)
            config.write32(a, offset, 0xffff_ffff)
            let mask = config.read32(a, offset)
            config.write32(a, offset, original)
            if original & 1 == 1 {
                // I/O: bits 2..31 (16 used on x86).
                let sizeMask = mask & 0xffff_fffc
                if sizeMask != 0 {
                    let size = UInt64((~sizeMask &+ 1) & 0xffff)
                    let base = UInt64(original & 0xffff_fffc)
                    if base != 0, size != 0 { result.append(PCIBAR(index: i, kind: .io, base: base, size: size)) }
                }
                i += 1
                continue
            }
            let is64 = (original >> 1) & 3 == 2
            let prefetchable = original & 8 != 0
            var base = UInt64(original & 0xffff_fff0)
            var sizeMask = UInt64(mask & 0xffff_fff0)
            if is64 && i + 1 < PCIConfig.barCount {
                let highOffset = offset + 4
                let high = config.read32(a, highOffset)
                config.write32(a, highOffset, 0xffff_ffff)
                let highMask = config.read32(a, highOffset)
                config.write32(a, highOffset, high)
                base |= UInt64(high) << 32
                sizeMask |= UInt64(highMask) << 32
            } else {
                sizeMask |= 0xffff_ffff_0000_0000
            }
            if mask & 0xffff_fff0 != 0 {
                let size = ~sizeMask &+ 1
                if base != 0, size != 0 {
                    result.append(PCIBAR(index: i, kind: is64 ? .memory64 : .memory32, base: base, size: size,
                                         prefetchable: prefetchable))
                }
            }
            i += is64 ? 2 : 1
        }
        return result
    }
}
