/// Why a Linux guest could not be set up in its VM's memory. Each case says what did not fit where.
public enum LinuxBootError: Error, Equatable, CustomStringConvertible {
    case memoryMap(E820Error)
    case acpi(ACPIError)
    case acpiTablesTooLarge(size: Int, room: UInt64)
    case commandLineTooLong(length: Int, limit: UInt64)
    case commandLineHasNUL(index: Int)
    /// Even at the lowest address it may take, the kernel's init_size does not end within RAM.
    case kernelDoesNotFit(address: UInt64, initSize: UInt64, ramSize: UInt64)
    /// No page-aligned place between the kernel's end and min(initrd_addr_max, RAM end) holds the initrd.
    case initrdDoesNotFit(size: UInt64, lowest: UInt64, limit: UInt64)
    case overlap(String, String)
    case wrongMemoryType(region: String, address: UInt64, size: UInt64)
    case memoryWriteFailed(region: String, address: UInt64)

    public var description: String {
        switch self {
        case .memoryMap(let e): return e.description
        case .acpi(let e): return e.description
        case .acpiTablesTooLarge(let size, let room):
            return "the ACPI tables take \(size) bytes, but 0xe0000-0xfffff has room for \(room)"
        case .commandLineTooLong(let length, let limit):
            return "the command line has \(length) bytes, the kernel accepts at most \(limit) (cmdline_size)"
        case .commandLineHasNUL(let index):
            return "the command line has a NUL byte at index \(index)"
        case .kernelDoesNotFit(let address, let initSize, let ram):
            return "the kernel needs 0x" + hex(initSize) + " bytes (init_size) from 0x" + hex(address)
                + ", beyond guest RAM of \(ram) bytes (0x" + hex(ram) + ")"
        case .initrdDoesNotFit(let size, let lowest, let limit):
            return "the initrd of \(size) bytes does not fit between the kernel's end 0x" + hex(lowest)
                + " and 0x" + hex(limit) + " (min of initrd_addr_max + 1 and the end of RAM)"
        case .overlap(let a, let b):
            return "boot layout: \(a) overlaps \(b)"
        case .wrongMemoryType(let region, let address, let size):
            return "boot layout: \(region) at 0x" + hex(address) + " (\(size) bytes) is not where the e820 map allows it"
        case .memoryWriteFailed(let region, let address):
            return "writing \(region) at 0x" + hex(address) + " into guest RAM failed (outside RAM)"
        }
    }
}
