import ELFFormat
import KernelABI
import UserRuntime

/// Loads a guest image into its RAM and says how the vCPU starts.
///
/// Flat 64-bit test images (an ELF64 executable, segments at their addresses = guest-physical, as `VMM/Guests`
/// links them at 1 MiB) start in 64-bit mode: the loader builds an identity map of the first GiB with 2 MiB pages
/// (PML4 at 0x1000, PDPT 0x2000, directory 0x3000) and a GDT at 0x4000 (0x08 64-bit code, 0x10 data), enters at
/// the ELF entry with interrupts off and rsp 4 KiB below the lowest segment (the guest-test boot protocol; guests
/// must leave 0x1000-0x4fff alone). Anything else is refused with a reason.
enum GuestLoader {
    static let pml4: UInt64 = 0x1000, pdpt: UInt64 = 0x2000, directory: UInt64 = 0x3000, gdt: UInt64 = 0x4000
    static let reservedEnd: UInt64 = 0x5000

    struct Entry {
        var rip: UInt64
        var rsp: UInt64
        /// Entered in 32-bit protected mode (Multiboot) rather than 64-bit mode.
        var protectedMode = false
    }

    /// Copies the image's segments into `memory`; the bytes come from `imageByte` (bounds-checked by the ELF parser).
    static func load<P>(size: UInt64, imageByte: (UInt64) -> UInt8, extras: MultibootLoader.Extras = .init(),
                        into memory: GuestMemory<P>) -> Result<Entry, LoadError> {
        if let header = MultibootLoader.header(size: size, byte: imageByte) {
            return MultibootLoader.load(header, size: size, byte: imageByte, extras: extras, into: memory)
        }
        let image: ELFImage
        do throws(ELFError) {
            image = try ELFImage(size: size, byteAt: imageByte)
        } catch {
            return .failure(.badImage(error))
        }
        var lowest = UInt64.max
        for segment in image.segments {
            let start = segment.virtualAddress
            guard start >= reservedEnd, memory.contains(start, count: max(segment.memorySize, 1)) else {
                return .failure(.segmentOutside(index: segment.index, address: start, size: segment.memorySize))
            }
            lowest = min(lowest, start)
            for offset in 0..<segment.memorySize {
                let byte = offset < segment.fileSize ? imageByte(segment.fileOffset + offset) : 0
                _ = memory.store8(start + offset, byte)
            }
        }
        guard lowest != UInt64.max else { return .failure(.noSegments) }
        guard memory.contains(image.entry) else { return .failure(.entryOutside(image.entry)) }
        guard memory.size >= reservedEnd + 0x1000 else { return .failure(.tooLittleMemory(memory.size)) }
        // Identity map of the first GiB: PML4[0] -> PDPT[0] -> 512 2 MiB pages (present, writable).
        _ = memory.store64(pml4, pdpt | 0x3)
        _ = memory.store64(pdpt, directory | 0x3)
        for i in UInt64(0)..<512 { _ = memory.store64(directory + i * 8, i << 21 | 0x83) }
        // GDT: null, 64-bit code (0x08), data (0x10).
        _ = memory.store64(gdt, 0)
        _ = memory.store64(gdt + 8, 0x00af_9b00_0000_ffff)
        _ = memory.store64(gdt + 16, 0x00cf_9300_0000_ffff)
        return .success(Entry(rip: image.entry, rsp: lowest))
    }

    /// The startup reply for a 64-bit entry: long mode, paging on, flat segments, the GDT above.
    static func writeLongModeEntry<P>(_ entry: Entry, into state: inout ExitState<P>) {
        FlatEntryState.write(into: &state, rip: entry.rip, rsp: entry.rsp, cr0: 0x8000_0031,  // PG, NE, ET, PE
                             cr3: pml4, cr4: 0x20, efer: 0x500,                               // PAE; LME, LMA
                             codeAttributes: 0xa9b)                                           // 64-bit code
    }
}

/// Why a guest image could not be loaded.
enum LoadError: Error, CustomStringConvertible {
    case badImage(ELFError)
    case segmentOutside(index: Int, address: UInt64, size: UInt64)
    case noSegments
    case entryOutside(UInt64)
    case tooLittleMemory(UInt64)
    case multiboot(String)
    case linuxImage(String)
    case linuxBoot(String)
    case machine(String)
    case missingDisk
    case diskService(String, String)
    case diskWithoutPC

    var description: String {
        switch self {
        case .badImage(let e): return "the image is not a loadable ELF64 executable: \(e)"
        case .segmentOutside(let i, let a, let s):
            return "segment \(i) (0x" + String(a, radix: 16) + ", \(s) bytes) lies outside guest RAM or in 0x0-0x4fff"
        case .noSegments: return "the image has no loadable segment"
        case .entryOutside(let e): return "the entry 0x" + String(e, radix: 16) + " lies outside guest RAM"
        case .tooLittleMemory(let m): return "\(m) bytes of guest RAM cannot hold the boot page tables"
        case .multiboot(let why): return "Multiboot image: " + why
        case .linuxImage(let why): return "Linux image: " + why
        case .linuxBoot(let why): return "Linux boot: " + why
        case .machine(let why): return "its PC: " + why
        case .missingDisk: return "the disk module is empty"
        case .diskService(let route, let why): return "disk service '" + route + "': " + why
        case .diskWithoutPC:
            return "a disk needs a Linux guest's PC (a bzImage kernel); a Multiboot kernel has no virtio-blk device"
        }
    }
}
