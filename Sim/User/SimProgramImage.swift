import KernelABI

/// Writes the ELF64 executable of a simulated program: a read+execute PT_LOAD at `base` holding one code record
/// per entry (entry i at `base + i * 32`, the ELF entry is entry 0), and a read+write PT_LOAD of `dataPages`
/// zero pages after it (bss, so loaders exercise memsz > filesz). Any ELF loader (kernel, root task) loads it.
public enum SimProgramImage {
    public static let defaultBase = AddressLayout.imageBase
    static let codeFileOffset: UInt64 = 0x1000

    public static func entryAddress(base: UInt64 = defaultBase, index: Int) -> UInt64 {
        base + UInt64(index) * SimCodeRecord.size
    }

    public static func elf(programID: UInt64, entryCount: Int, base: UInt64 = defaultBase,
                           dataPages: UInt64 = 1) -> [UInt8] {
        precondition(base % 4096 == 0, "program base must be page aligned")
        var code: [UInt8] = []
        for i in 0..<entryCount { code += SimCodeRecord(programID: programID, entryIndex: UInt64(i)).bytes }
        let codeSize = UInt64(code.count)
        let codePages = (codeSize + 4095) / 4096
        let phnum: UInt64 = dataPages > 0 ? 2 : 1

        var file = [UInt8](repeating: 0, count: Int(codeFileOffset))
        func put(_ at: Int, _ value: UInt64, _ count: Int) {
            for i in 0..<count { file[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(0, 0x464c_457f, 4)
        file[4] = 2; file[5] = 1; file[6] = 1                 // ELFCLASS64, little-endian, EV_CURRENT
        put(16, 2, 2); put(18, 62, 2); put(20, 1, 4)          // ET_EXEC, EM_X86_64, EV_CURRENT
        put(24, base, 8); put(32, 64, 8)                      // entry, program headers right after the header
        put(52, 64, 2); put(54, 56, 2); put(56, phnum, 2)
        func header(_ index: Int, flags: UInt64, offset: UInt64, vaddr: UInt64, fileSize: UInt64, memSize: UInt64) {
            let at = 64 + 56 * index
            put(at, 1, 4); put(at + 4, flags, 4); put(at + 8, offset, 8); put(at + 16, vaddr, 8)
            put(at + 24, vaddr, 8); put(at + 32, fileSize, 8); put(at + 40, memSize, 8); put(at + 48, 4096, 8)
        }
        header(0, flags: 5, offset: codeFileOffset, vaddr: base, fileSize: codeSize, memSize: codeSize)
        if dataPages > 0 {
            // Offset and address must agree modulo the page size: the (empty) file part starts at the padded end.
            header(1, flags: 6, offset: codeFileOffset + codePages * 4096, vaddr: base + codePages * 4096, fileSize: 0,
                   memSize: dataPages * 4096)
        }
        code += [UInt8](repeating: 0, count: Int(codePages * 4096 - codeSize))
        return file + code
    }
}
