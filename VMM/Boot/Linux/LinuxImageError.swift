/// Why a file is not a bzImage this loader can boot. Each case names the field and the values that were wrong.
public enum LinuxImageError: Error, Equatable, CustomStringConvertible {
    /// The file ends inside `field` (the first field it cuts off).
    case truncated(field: SetupHeaderField, fileSize: UInt64)
    case badBootFlag(UInt16)
    case notABzImage(magic: UInt32)
    case protocolTooOld(UInt16)
    /// The header's own length (the jump at 0x200) ends before `init_size`, or beyond the room boot_params has.
    case badHeaderLength(end: Int)
    case notLoadedHigh(loadFlags: UInt8)
    case no64BitEntry(xloadFlags: UInt16)
    case setupBeyondFile(setupSize: UInt64, fileSize: UInt64)
    case noKernel
    case kernelBeyondFile(setupSize: UInt64, kernelSize: UInt64, fileSize: UInt64)
    case badKernelAlignment(UInt32)
    case initSizeTooSmall(initSize: UInt64, kernelSize: UInt64)
    case badPreferredAddress(UInt64)
    case badKernelVersionPointer(UInt16)

    public var description: String {
        switch self {
        case .truncated(let field, let size):
            return "truncated bzImage: the file (\(size) bytes) ends inside the setup header field \(field.name) at 0x"
                + hex(UInt64(field.offset)) + " (\(field.width) bytes)"
        case .badBootFlag(let flag):
            return "not a Linux kernel: boot_flag at 0x1fe is 0x" + hex(UInt64(flag)) + ", not 0xaa55"
        case .notABzImage(let magic):
            return "not a bzImage: the setup header magic at 0x202 is 0x" + hex(UInt64(magic)) + ", not \"HdrS\" (0x53726448)"
        case .protocolTooOld(let version):
            return "boot protocol " + protocolString(version) + " is too old: the 64-bit entry needs 2.12 or later"
        case .badHeaderLength(let end):
            return "the setup header ends at 0x" + hex(UInt64(end)) + " (jump at 0x200): it must reach past init_size (0x264) and end by 0x290"
        case .notLoadedHigh(let flags):
            return "loadflags 0x" + hex(UInt64(flags)) + " lack LOADED_HIGH: zImage kernels (loaded at 0x10000) are not supported"
        case .no64BitEntry(let flags):
            return "xloadflags 0x" + hex(UInt64(flags)) + " lack XLF_KERNEL_64: the kernel has no 64-bit entry at 0x200"
        case .setupBeyondFile(let setup, let size):
            return "setup_sects says the real-mode setup takes \(setup) bytes, but the file has only \(size)"
        case .noKernel:
            return "syssize is 0: the bzImage has no protected-mode kernel"
        case .kernelBeyondFile(let setup, let kernel, let size):
            return "syssize says the protected-mode kernel takes \(kernel) bytes after \(setup) bytes of setup, but the file has only \(size)"
        case .badKernelAlignment(let alignment):
            return "kernel_alignment 0x" + hex(UInt64(alignment)) + " is not a power of two of at least 4 KiB"
        case .initSizeTooSmall(let initSize, let kernel):
            return "init_size 0x" + hex(initSize) + " is smaller than the kernel it must hold (0x" + hex(kernel) + " bytes)"
        case .badPreferredAddress(let address):
            return "pref_address 0x" + hex(address) + " of a non-relocatable kernel lies below 1 MiB or wraps with init_size"
        case .badKernelVersionPointer(let pointer):
            return "kernel_version 0x" + hex(UInt64(pointer)) + " does not point at a NUL-terminated string inside the setup code"
        }
    }
}

func hex(_ value: UInt64) -> String { String(value, radix: 16) }

func protocolString(_ version: UInt16) -> String {
    let minor = version & 0xff
    return "\(version >> 8)." + (minor < 10 ? "0" : "") + "\(minor)"
}
