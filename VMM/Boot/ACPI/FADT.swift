import DeviceModels

/// The Fixed ACPI Description Table (signature "FACP"), revision 6 (ACPI 6.0+ layout, 276 bytes; ACPI 6.5, 5.2.9):
/// a PC-style (not hardware-reduced) machine whose SCI is ISA IRQ `sciLine`, with the PM1a event and control blocks
/// of `ACPIPowerManagement` (in both the 32-bit and the X_ generic-address fields, which must agree), no SMI command
/// port (always in ACPI mode), no PM timer, no GPE blocks, no C2/C3, the reset register, the FACS in FIRMWARE_CTRL
/// (X_FIRMWARE_CTRL must then be 0) and the DSDT in both DSDT and X_DSDT.
public enum FADT {
    public static let revision: UInt8 = 6
    public static let minorRevision: UInt8 = 0
    public static let size = 276

    /// Field offsets (ACPI 6.5, Table 5.9).
    public enum Offset {
        public static let firmwareControl = 36, dsdt = 40, preferredPMProfile = 45, sciInterrupt = 46, smiCommand = 48
        public static let pm1aEventBlock = 56, pm1aControlBlock = 64, pmTimerBlock = 76, gpe0Block = 80
        public static let pm1EventLength = 88, pm1ControlLength = 89, pmTimerLength = 91
        public static let c2Latency = 96, c3Latency = 98, bootArchitecture = 109, flags = 112
        public static let resetRegister = 116, resetValue = 128, minorVersion = 131
        public static let xFirmwareControl = 132, xDSDT = 140, xPM1aEventBlock = 148, xPM1aControlBlock = 172
        public static let xPMTimerBlock = 208, hypervisorVendor = 268
    }

    // Flags.
    public static let wbinvd: UInt32 = 1 << 0
    public static let processorC1: UInt32 = 1 << 2
    /// No fixed-feature sleep button (the power button is fixed: PWR_BUTTON, bit 4, stays clear).
    public static let sleepButtonIsControlMethod: UInt32 = 1 << 5
    public static let resetRegisterSupported: UInt32 = 1 << 10
    public static let hardwareReduced: UInt32 = 1 << 20
    // IAPC_BOOT_ARCH.
    public static let legacyDevices: UInt16 = 1 << 0
    public static let has8042: UInt16 = 1 << 1
    public static let vgaNotPresent: UInt16 = 1 << 2
    public static let cmosRTCNotPresent: UInt16 = 1 << 5

    /// `facs` and `dsdt` lie below 4 GiB (`ACPITables` places them so).
    public static func make(platform: GuestPlatform, facs: UInt64, dsdt: UInt64) -> [UInt8] {
        let pm = platform.powerManagement
        let eventLength = ACPIPowerManagement.Layout.eventBlockLength
        let controlLength = ACPIPowerManagement.Layout.controlBlockLength
        var t = LittleEndianBytes(count: size)
        t.set(Offset.firmwareControl, u32: UInt32(truncatingIfNeeded: facs))
        t.set(Offset.dsdt, u32: UInt32(truncatingIfNeeded: dsdt))
        t.set(Offset.sciInterrupt, u16: UInt16(truncatingIfNeeded: pm.sciLine))
        t.set(Offset.pm1aEventBlock, u32: UInt32(pm.eventBlock))
        t.set(Offset.pm1aControlBlock, u32: UInt32(pm.controlBlock))
        t.set(Offset.pm1EventLength, u8: UInt8(eventLength))
        t.set(Offset.pm1ControlLength, u8: UInt8(controlLength))
        // Latencies above 100 / 1000 µs say C2 / C3 are not supported.
        t.set(Offset.c2Latency, u16: 101)
        t.set(Offset.c3Latency, u16: 1001)
        var boot = legacyDevices | vgaNotPresent
        if platform.has8042 { boot |= has8042 }
        if !platform.hasCMOSRTC { boot |= cmosRTCNotPresent }
        t.set(Offset.bootArchitecture, u16: boot)
        t.set(Offset.flags, u32: wbinvd | processorC1 | sleepButtonIsControlMethod | resetRegisterSupported)
        t.set(Offset.resetRegister, bytes: GenericAddress.systemIO(UInt64(pm.resetPort), bits: 8))
        t.set(Offset.resetValue, u8: pm.resetValue)
        t.set(Offset.minorVersion, u8: minorRevision)
        t.set(Offset.xDSDT, u64: dsdt)
        t.set(Offset.xPM1aEventBlock, bytes: GenericAddress.systemIO(UInt64(pm.eventBlock), bits: UInt8(eventLength * 8)))
        t.set(Offset.xPM1aControlBlock, bytes: GenericAddress.systemIO(UInt64(pm.controlBlock), bits: UInt8(controlLength * 8)))
        t.set(Offset.hypervisorVendor, ascii: ACPITableHeader.oemTableID, width: 8)
        return ACPITableHeader.table(signature: "FACP", revision: revision,
                                     body: Array(t.bytes[ACPITableHeader.size..<size]))
    }
}

/// The Generic Address Structure (ACPI 6.5, 5.2.3.2): 12 bytes naming a register.
public enum GenericAddress {
    public static let systemIOSpace: UInt8 = 1

    /// A register of `bits` bits in system I/O space, accessed in 8- or 16-bit units (the PM1 blocks are 16-bit
    /// registers; the 32-bit event block is PM1_STS and PM1_EN side by side).
    public static func systemIO(_ port: UInt64, bits: UInt8) -> [UInt8] {
        let accessSize: UInt8 = bits == 8 ? 1 : 2  // 1: byte, 2: word
        return [systemIOSpace, bits, 0, accessSize] + LittleEndianBytes.encode(port, width: 8)
    }
}
