/// Builds small ELF64 files byte by byte for the parser tests, so each test can break exactly one field.
struct ELFTestFile {
    struct Segment {
        var type: UInt32 = 1
        var flags: UInt32 = 5 // R+X
        var offset: UInt64
        var vaddr: UInt64
        var fileSize: UInt64
        var memorySize: UInt64
    }

    var elfClass: UInt8 = 2
    var encoding: UInt8 = 1
    var identVersion: UInt8 = 1
    var type: UInt16 = 2
    var machine: UInt16 = 62
    var version: UInt32 = 1
    var entry: UInt64 = 0x80_0000_0000
    var ehsize: UInt16 = 64
    var phentsize: UInt16 = 56
    var phoff: UInt64 = 64
    var phnumOverride: UInt16? = nil
    var segments: [Segment] = [
        Segment(flags: 5, offset: 0, vaddr: 0x80_0000_0000, fileSize: 0x1000, memorySize: 0x1000),
        Segment(flags: 6, offset: 0x1000, vaddr: 0x80_0000_1000, fileSize: 0x10, memorySize: 0x2000),
    ]
    var totalSize: Int = 0x1010

    var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: max(totalSize, 64))
        func put(_ at: Int, _ value: UInt64, _ count: Int) {
            for i in 0..<count where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(0, 0x464c_457f, 4)
        b[4] = elfClass; b[5] = encoding; b[6] = identVersion
        put(16, UInt64(type), 2); put(18, UInt64(machine), 2); put(20, UInt64(version), 4)
        put(24, entry, 8); put(32, phoff, 8); put(52, UInt64(ehsize), 2); put(54, UInt64(phentsize), 2)
        put(56, UInt64(phnumOverride ?? UInt16(segments.count)), 2)
        // Program headers are written only where they fit (tests move the table out of the file on purpose).
        for (i, s) in segments.enumerated() {
            guard phoff < UInt64(b.count) else { break }
            let at = Int(phoff) + 56 * i
            put(at, UInt64(s.type), 4); put(at + 4, UInt64(s.flags), 4); put(at + 8, s.offset, 8)
            put(at + 16, s.vaddr, 8); put(at + 24, s.vaddr, 8); put(at + 32, s.fileSize, 8)
            put(at + 40, s.memorySize, 8); put(at + 48, 0x1000, 8)
        }
        // A recognisable payload byte at the start of the data segment.
        if b.count > 0x1000 { b[0x1000] = 0xab }
        return b
    }
}
