import UserRuntime

/// The Intel 82574L (QEMU `-device e1000e`) as far as this test needs it: its I/O BAR (BAR 2, 32 ports: IOADDR at
/// +0 selects a register, IODATA at +4 reads or writes it) and its interrupt registers. Writing a cause to ICS
/// raises it as the device itself would; with MSI enabled the device then writes its MSI message.
struct E1000E<P: UserPlatform> {
    static var vendor: UInt16 { 0x8086 }
    static var device: UInt16 { 0x10d3 }
    static var ioBAR: UInt8 { 0x18 }
    static var ioPortCount: UInt16 { 32 }
    /// Interrupt cause read (cleared by the read when MSI-X is off), cause set, mask set.
    static var icr: UInt32 { 0x00c0 }
    static var ics: UInt32 { 0x00c8 }
    static var ims: UInt32 { 0x00d0 }
    static var imc: UInt32 { 0x00d8 }
    /// Transmit descriptor written back: a cause the idle device never raises by itself.
    static var txdw: UInt32 { 1 << 0 }
    /// Transmit control (bit 1 enable) and the transmit ring: base low/high, length in bytes, head, tail.
    static var tctl: UInt32 { 0x0400 }
    static var tdbal: UInt32 { 0x3800 }
    static var tdbah: UInt32 { 0x3804 }
    static var tdlen: UInt32 { 0x3808 }
    static var tdh: UInt32 { 0x3810 }
    static var tdt: UInt32 { 0x3818 }

    let platform: P
    let ioBase: UInt16

    func read(_ register: UInt32) -> UInt32 {
        platform.portOut32(ioBase, register)
        return platform.portIn32(ioBase + 4)
    }

    func write(_ register: UInt32, _ value: UInt32) {
        platform.portOut32(ioBase, register)
        platform.portOut32(ioBase + 4, value)
    }
}
