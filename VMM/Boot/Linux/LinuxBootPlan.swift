/// What `LinuxBootLoader` placed in guest memory and the state the boot vCPU must start in, for the VMM to turn into
/// its startup reply: 64-bit mode (the control registers below), CS = `codeSelector` and DS = ES = SS (and FS, GS) =
/// `dataSelector`, flat, with the given attributes; the GDT register at `gdtBase`/`gdtLimit`; no IDT; interrupts off
/// (rflags 0x2); rip, rsi and rsp as given, every other general register zero. Secondary vCPUs wait for the
/// guest's INIT-SIPI as on a PC.
public struct LinuxBootPlan {
    public var rip: UInt64
    /// boot_params.
    public var rsi: UInt64
    public var rsp: UInt64
    public var cr0: UInt64
    public var cr3: UInt64
    public var cr4: UInt64
    public var efer: UInt64
    public var gdtBase: UInt64
    public var gdtLimit: UInt16
    public var codeSelector: UInt16
    public var dataSelector: UInt16
    public var codeAttributes: UInt16
    public var dataAttributes: UInt16

    public var kernelAddress: UInt64
    public var commandLineAddress: UInt64
    public var commandLineLength: Int
    /// 0 and 0 without an initrd.
    public var initrdAddress: UInt64
    public var initrdSize: UInt64
    public var e820: E820Map
    public var acpi: ACPITables
    /// Everything placed, checked not to overlap.
    public var regions: [BootRegion]
}

/// One thing the loader placed in guest memory.
public struct BootRegion: Equatable {
    public var name: String
    public var address: UInt64
    public var size: UInt64
    /// The e820 type the region must lie in.
    public var requiredType: E820Type

    public var end: UInt64 { address + size }

    public func overlaps(_ other: BootRegion) -> Bool { address < other.end && other.address < end }
}
