import KernelABI
import UserRuntime

/// Multiboot v1 guests (a header with magic 0x1BADB002 in the image's first 8 KiB), loaded by the header's address
/// fields (flags bit 16: load, load-end, bss-end and entry addresses, so ELF32 need not be parsed) and entered in
/// 32-bit protected mode as a Multiboot loader does: flat segments from a GDT at 0x4000 (0x08 code, 0x10 data),
/// paging off, interrupts off, eax = 0x2BADB002, ebx = the information block at 0x9000 (memory sizes and a memory
/// map of the guest's RAM, the command line, the initrd as module 0), as QEMU's `-kernel` does: the command line
/// is the kernel module's name, a space and the manifest's `cmdline`; the module is page-aligned above the image,
/// its string is the initrd module's name.
enum MultibootLoader {
    static let headerMagic: UInt32 = 0x1bad_b002
    static let bootMagic: UInt64 = 0x2bad_b002
    static let infoAddress: UInt64 = 0x9000
    static let mapAddress: UInt64 = 0x9100
    static let moduleListAddress: UInt64 = 0x9200
    static let moduleStringAddress: UInt64 = 0x9300
    static let commandLineAddress: UInt64 = 0xa000
    /// The command line's room (up to the manifest's 1024 characters after a module name and a space).
    static let commandLineCapacity: UInt64 = 0x1000

    /// What the Multiboot loader passes besides the image: the command line and at most one module.
    struct Extras {
        var commandLine: [UInt8] = []
        var moduleName: [UInt8] = []
        var moduleSize: UInt64 = 0
        var moduleByte: ((UInt64) -> UInt8)?
    }

    struct Header {
        var fileOffset: UInt64
        var flags: UInt32
        var headerAddress: UInt64, loadAddress: UInt64, loadEnd: UInt64, bssEnd: UInt64, entry: UInt64
    }

    /// The header, if the image has one (nil: not a Multiboot image).
    static func header(size: UInt64, byte: (UInt64) -> UInt8) -> Header? {
        func u32(_ at: UInt64) -> UInt32 {
            (0..<UInt64(4)).reduce(UInt32(0)) { $0 | UInt32(byte(at + $1)) << (8 * UInt32($1)) }
        }
        var at: UInt64 = 0
        while at + 32 <= min(size, 8192) {
            if u32(at) == headerMagic, u32(at) &+ u32(at + 4) &+ u32(at + 8) == 0 {
                return Header(fileOffset: at, flags: u32(at + 4), headerAddress: UInt64(u32(at + 12)),
                              loadAddress: UInt64(u32(at + 16)), loadEnd: UInt64(u32(at + 20)),
                              bssEnd: UInt64(u32(at + 24)), entry: UInt64(u32(at + 28)))
            }
            at += 4
        }
        return nil
    }

    static func load<P>(_ h: Header, size: UInt64, byte: (UInt64) -> UInt8, extras: Extras = Extras(),
                        into memory: GuestMemory<P>) -> Result<GuestLoader.Entry, LoadError> {
        guard h.flags & (1 << 16) != 0 else { return .failure(.multiboot("the header has no load addresses (flags bit 16)")) }
        guard h.headerAddress >= h.loadAddress, h.fileOffset >= h.headerAddress - h.loadAddress else {
            return .failure(.multiboot("the header's addresses do not fit its place in the file"))
        }
        let start = h.fileOffset - (h.headerAddress - h.loadAddress)
        let end = h.loadEnd == 0 ? size - start + h.loadAddress : h.loadEnd
        let bssEnd = max(h.bssEnd, end)
        guard h.loadAddress >= 0x10_0000, end >= h.loadAddress, end - h.loadAddress <= size - start,
              memory.contains(h.loadAddress, count: bssEnd - h.loadAddress), memory.contains(h.entry) else {
            return .failure(.multiboot("the image does not fit guest RAM above 1 MiB"))
        }
        guard UInt64(extras.commandLine.count) < commandLineCapacity, extras.moduleName.count < 0x100,
              memory.contains(commandLineAddress, count: commandLineCapacity) else {
            return .failure(.multiboot("the command line or module name is too long, or RAM below 1 MiB too small"))
        }
        // The module, page-aligned above the image (checked before anything is written).
        let moduleStart = (bssEnd &+ 0xfff) & ~UInt64(0xfff)
        if extras.moduleByte != nil {
            guard moduleStart >= bssEnd, memory.contains(moduleStart, count: extras.moduleSize),
                  moduleStart &+ extras.moduleSize <= 0xffff_ffff else {
                return .failure(.multiboot("the initrd (\(extras.moduleSize) bytes) does not fit guest RAM above the "
                                           + "image at 0x" + String(moduleStart, radix: 16)))
            }
        }
        for offset in 0..<(bssEnd - h.loadAddress) {
            let inFile = offset < end - h.loadAddress
            _ = memory.store8(h.loadAddress + offset, inFile ? byte(start + offset) : 0)
        }
        // GDT: null, flat 32-bit code (0x08), flat data (0x10).
        _ = memory.store64(GuestLoader.gdt, 0)
        _ = memory.store64(GuestLoader.gdt + 8, 0x00cf_9b00_0000_ffff)
        _ = memory.store64(GuestLoader.gdt + 16, 0x00cf_9300_0000_ffff)
        // Information block (Multiboot 0.6.96 §3.3): flags (0 memory sizes, 2 command line, 3 modules, 6 memory
        // map), mem_lower / mem_upper in KiB, cmdline, mods_count / mods_addr, mmap_length / mmap_addr at 44 / 48.
        for offset in stride(from: UInt64(0), to: 0x100, by: 8) { _ = memory.store64(infoAddress + offset, 0) }
        let lowerKiB: UInt64 = 640, upperKiB = (memory.size - 0x10_0000) >> 10
        let moduleCount: UInt64 = extras.moduleByte == nil ? 0 : 1
        _ = memory.store64(infoAddress, 1 | 1 << 2 | 1 << 3 | 1 << 6 | lowerKiB << 32)
        _ = memory.store64(infoAddress + 8, upperKiB)
        _ = memory.store64(infoAddress + 16, commandLineAddress | moduleCount << 32)
        _ = memory.store64(infoAddress + 24, moduleListAddress)
        for (i, b) in extras.commandLine.enumerated() { _ = memory.store8(commandLineAddress + UInt64(i), b) }
        _ = memory.store8(commandLineAddress + UInt64(extras.commandLine.count), 0)
        if let moduleByte = extras.moduleByte {
            for offset in 0..<extras.moduleSize { _ = memory.store8(moduleStart + offset, moduleByte(offset)) }
            for (i, b) in extras.moduleName.enumerated() { _ = memory.store8(moduleStringAddress + UInt64(i), b) }
            _ = memory.store8(moduleStringAddress + UInt64(extras.moduleName.count), 0)
            _ = memory.store64(moduleListAddress, moduleStart | (moduleStart + extras.moduleSize) << 32)
            _ = memory.store64(moduleListAddress + 8, moduleStringAddress)
        }
        let entries: [(UInt64, UInt64)] = [(0, 0xa_0000), (0x10_0000, memory.size - 0x10_0000)]
        for (i, e) in entries.enumerated() {
            let at = mapAddress + UInt64(i) * 24
            _ = memory.store64(at, 20 | (e.0 & 0xffff_ffff) << 32)      // size 20, base low
            _ = memory.store64(at + 8, e.0 >> 32 | (e.1 & 0xffff_ffff) << 32)
            _ = memory.store64(at + 16, e.1 >> 32 | 1 << 32)           // length high, type 1 (RAM)
        }
        _ = memory.store64(infoAddress + 40, UInt64(entries.count * 24) << 32)  // syms[3] 0, mmap_length
        _ = memory.store64(infoAddress + 48, mapAddress)                       // mmap_addr
        return .success(GuestLoader.Entry(rip: h.entry, rsp: 0, protectedMode: true))
    }

    /// The startup reply for a Multiboot entry: 32-bit protected mode, paging off, the boot magic and the block.
    static func writeEntry<P>(_ entry: GuestLoader.Entry, into state: inout ExitState<P>) {
        FlatEntryState.write(into: &state, rip: entry.rip, rsp: 0, cr0: 0x11, cr3: 0, cr4: 0, efer: 0,  // PE, ET
                             codeAttributes: 0xc9b)                                                   // 32-bit code
        state.setRegister(0, bootMagic)
        state.setRegister(3, infoAddress)
    }
}
