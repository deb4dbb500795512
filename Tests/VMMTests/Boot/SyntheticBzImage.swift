@testable import GuestBoot

/// A small file with a well-formed setup header (protocol 2.15, 64-bit entry, relocatable), for the hostile
/// variants that need no real kernel: each test changes one field. Offsets are boot.rst's, written out here as
/// numbers rather than taken from `SetupHeaderField`, so the parser's table is checked too.
struct SyntheticBzImage {
    var bytes: [UInt8]

    static let setupSects: UInt8 = 4
    static let kernelSize = 0x4000

    init() {
        let setupSize = (Int(Self.setupSects) + 1) * 512
        bytes = [UInt8](repeating: 0, count: setupSize + Self.kernelSize)
        set(0x1f1, UInt64(Self.setupSects), 1)
        set(0x1f4, UInt64(Self.kernelSize / 16), 4)  // syssize
        set(0x1fe, 0xaa55, 2)
        set(0x200, 0x6aeb, 2)  // jmp +0x6a: the header ends at 0x26c
        set(0x202, 0x5372_6448, 4)  // "HdrS"
        set(0x206, 0x020f, 2)
        set(0x20e, 0x100, 2)  // kernel_version: the string at 0x300
        set(0x211, 0x01, 1)  // LOADED_HIGH
        set(0x214, 0x10_0000, 4)
        set(0x22c, 0x7fff_ffff, 4)  // initrd_addr_max
        set(0x230, 0x20_0000, 4)  // kernel_alignment
        set(0x234, 1, 1)  // relocatable
        set(0x235, 21, 1)
        set(0x236, 0x7f, 2)  // xloadflags
        set(0x238, 0x7ff, 4)  // cmdline_size
        set(0x258, 0x100_0000, 8)  // pref_address
        set(0x260, 0x10_0000, 4)  // init_size
        for (i, c) in "9.9.9-synthetic".utf8.enumerated() { bytes[0x300 + i] = c }
        for i in 0..<Self.kernelSize { bytes[setupSize + i] = UInt8(truncatingIfNeeded: i * 7 + 1) }
    }

    mutating func set(_ offset: Int, _ value: UInt64, _ width: Int) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func with(_ offset: Int, _ value: UInt64, _ width: Int) -> [UInt8] {
        var copy = self
        copy.set(offset, value, width)
        return copy.bytes
    }
}
