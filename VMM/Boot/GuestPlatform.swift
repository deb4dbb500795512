import DeviceModels

/// What the guest's machine looks like beyond its RAM, as far as its memory map and firmware tables must say it:
/// one description the e820 map, the ACPI tables and the VMM's device models share, so they cannot disagree.
public struct GuestPlatform {
    public static let ioAPICAddress: UInt64 = 0xfec0_0000
    public static let localAPICAddress: UInt64 = 0xfee0_0000
    /// One page each is reserved in the e820 map.
    public static let apicWindowSize: UInt64 = 0x1000
    /// IOAPIC pins: ISA IRQs 0-15 and PCI interrupts 16-23.
    public static let ioAPICPins = 24

    public var vcpuCount: Int
    /// The ACPI power-management block the FADT names and the device model decodes.
    public var powerManagement: ACPIPowerManagement.Layout
    /// A PCI host bridge the DSDT describes (nil: none; Linux with ACPI then scans no PCI bus at all).
    public var pciHostBridge: PCIHostBridge?
    /// FADT IAPC_BOOT_ARCH: whether an 8042 keyboard controller and a CMOS RTC exist (Linux then probes them).
    public var has8042: Bool
    public var hasCMOSRTC: Bool

    public init(vcpuCount: Int = 1, powerManagement: ACPIPowerManagement.Layout = .init(),
                pciHostBridge: PCIHostBridge? = PCIHostBridge(), has8042: Bool = false, hasCMOSRTC: Bool = false) {
        self.vcpuCount = vcpuCount
        self.powerManagement = powerManagement
        self.pciHostBridge = pciHostBridge
        self.has8042 = has8042
        self.hasCMOSRTC = hasCMOSRTC
    }
}

/// The PCI host bridge as the DSDT's `\_SB.PCI0` (PNP0A03) presents it: configuration mechanism #1 at 0xcf8, bus
/// numbers 0-255, the I/O ports around it and one 32-bit memory window for BARs, below the IOAPIC. Guest RAM must end
/// below the window (the VMM maps RAM contiguously from 0), and the e820 map leaves the window out, as PCs do:
/// Linux clips host-bridge windows against e820-reserved ranges.
public struct PCIHostBridge {
    public var memoryWindowStart: UInt64
    /// The last byte of the window.
    public var memoryWindowEnd: UInt64
    /// _PRT entries (device, INTx pin 0-3 for A-D, GSI); empty: no _PRT, and Linux takes each device's interrupt
    /// line from its configuration space (MSI/MSI-X need neither).
    public var interruptRoutes: [PCIInterruptRoute]

    public init(memoryWindowStart: UInt64 = 0xc000_0000, memoryWindowEnd: UInt64 = 0xfebf_ffff,
                interruptRoutes: [PCIInterruptRoute] = []) {
        self.memoryWindowStart = memoryWindowStart
        self.memoryWindowEnd = memoryWindowEnd
        self.interruptRoutes = interruptRoutes
    }
}

public struct PCIInterruptRoute: Equatable {
    public var device: UInt8
    public var pin: UInt8
    public var gsi: UInt32

    public init(device: UInt8, pin: UInt8, gsi: UInt32) {
        self.device = device
        self.pin = pin
        self.gsi = gsi
    }
}
