/// The boot bundle: the named modules the loader hands to the kernel (the root task's ELF, the compiled manifest,
/// one ELF per component binary). Everything is little-endian:
///
///   header (32 bytes): magic "HVBUNDLE" (8), version u32, entry count u32, total size u64,
///                      checksum u64 (FNV-1a 64 over bytes headerSize ..< total size)
///   entries (count x 64 bytes): name (48 bytes UTF-8, NUL padded, at least one NUL), offset u64, size u64
///   module data, each module starting on a page boundary so it can be mapped or loaded in place.
public enum BootBundleLayout {
    /// "HVBUNDLE" read as a little-endian word.
    public static let magic: UInt64 = 0x454c_444e_5542_5648
    public static let version: UInt32 = 1
    public static let headerSize = 32
    public static let entrySize = 64
    public static let maxNameLength = 47
    public static let moduleAlignment = 4096
    /// Far more than any image needs; bounds what a reader will walk.
    public static let maxEntries = 1024

    /// FNV-1a, 64 bit: cheap enough for the kernel and the C loader, and catches corrupted or truncated modules.
    public static func checksum(count: Int, byte: (Int) -> UInt8) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count {
            hash = (hash ^ UInt64(byte(i))) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
