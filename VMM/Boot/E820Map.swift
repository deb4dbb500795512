/// The guest's physical memory map as the BIOS's e820 call would report it, derived from the VM's RAM size and the
/// platform: the one map boot_params carries and the firmware tables are checked against.
///
///     0x0000_0000 - 0x0009_fbff  usable (the low layout of `LowMemoryLayout` lives here)
///     0x0009_fc00 - 0x000f_ffff  reserved, as on a PC (EBDA, VGA hole, BIOS area; the ACPI tables are at 0xe0000)
///     0x0010_0000 - RAM end      usable
///     0xfec0_0000 + 4 KiB        reserved (IOAPIC)
///     0xfee0_0000 + 4 KiB        reserved (local APIC)
/// The PCI memory window lies between RAM's end and the IOAPIC and is not listed (see `PCIHostBridge`).
public struct E820Map: Equatable {
    public static let lowRAMEnd: UInt64 = 0x9_fc00
    public static let highRAMStart: UInt64 = 0x10_0000
    /// Room boot_params has (e820_table[128]).
    public static let maximumEntries = 128

    public let entries: [E820Entry]
    public let ramSize: UInt64

    public init(ramSize: UInt64, platform: GuestPlatform) throws(E820Error) {
        let minimum = Self.highRAMStart + 0x10_0000
        guard ramSize >= minimum else { throw .ramTooSmall(ramSize: ramSize, minimum: minimum) }
        let mmioStart = platform.pciHostBridge?.memoryWindowStart ?? GuestPlatform.ioAPICAddress
        guard ramSize <= mmioStart else { throw .ramOverlapsMMIO(ramSize: ramSize, mmioStart: mmioStart) }
        self.ramSize = ramSize
        entries = [
            E820Entry(address: 0, size: Self.lowRAMEnd, type: .usable),
            E820Entry(address: Self.lowRAMEnd, size: Self.highRAMStart - Self.lowRAMEnd, type: .reserved),
            E820Entry(address: Self.highRAMStart, size: ramSize - Self.highRAMStart, type: .usable),
            E820Entry(address: GuestPlatform.ioAPICAddress, size: GuestPlatform.apicWindowSize, type: .reserved),
            E820Entry(address: GuestPlatform.localAPICAddress, size: GuestPlatform.apicWindowSize, type: .reserved),
        ]
    }

    /// The type of the entry holding all of [address, address + size), or nil when no single entry does.
    public func type(of address: UInt64, size: UInt64) -> E820Type? {
        for entry in entries where address >= entry.address && address - entry.address <= entry.size
            && size <= entry.size - (address - entry.address) {
            return entry.type
        }
        return nil
    }

    /// The usable range above 1 MiB, where the kernel and the initrd go.
    public var highRAM: E820Entry { entries[2] }
}

public struct E820Entry: Equatable {
    public var address: UInt64
    public var size: UInt64
    public var type: E820Type

    public var end: UInt64 { address + size }
}

/// The e820 entry types (the ACPI spec's address range types) that this map uses or a guest may meet.
public enum E820Type: UInt32 {
    case usable = 1
    case reserved = 2
    case acpiReclaimable = 3
    case acpiNVS = 4
}

public enum E820Error: Error, Equatable, CustomStringConvertible {
    case ramTooSmall(ramSize: UInt64, minimum: UInt64)
    case ramOverlapsMMIO(ramSize: UInt64, mmioStart: UInt64)

    public var description: String {
        switch self {
        case .ramTooSmall(let ram, let minimum):
            return "guest RAM of \(ram) bytes is too small: the boot layout needs at least \(minimum) bytes (2 MiB)"
        case .ramOverlapsMMIO(let ram, let start):
            return "guest RAM of \(ram) bytes reaches the PCI/APIC MMIO range at 0x" + String(start, radix: 16)
                + ": at most 0x" + String(start, radix: 16) + " bytes (RAM is contiguous from 0)"
        }
    }
}
