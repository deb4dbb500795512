/// One PT_LOAD program header: `fileSize` bytes from `fileOffset` go to `virtualAddress`, the rest up to
/// `memorySize` is zero. Invariants (checked by `ELFImage`): fileSize <= memorySize, memorySize > 0, the file bytes
/// lie inside the file, the memory range does not wrap, virtualAddress ≡ fileOffset (mod page size).
public struct ELFSegment: Equatable, Sendable {
    public static let pageSize: UInt64 = 4096

    /// Index of the program header in the file (for error messages).
    public var index: Int
    public var virtualAddress: UInt64
    public var fileOffset: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64
    public var readable: Bool
    public var writable: Bool
    public var executable: Bool

    public init(index: Int, virtualAddress: UInt64, fileOffset: UInt64, fileSize: UInt64, memorySize: UInt64,
                readable: Bool, writable: Bool, executable: Bool) {
        self.index = index
        self.virtualAddress = virtualAddress
        self.fileOffset = fileOffset
        self.fileSize = fileSize
        self.memorySize = memorySize
        self.readable = readable
        self.writable = writable
        self.executable = executable
    }

    /// One past the last byte in memory.
    public var end: UInt64 { virtualAddress + memorySize }
    /// The first page the segment touches.
    public var firstPage: UInt64 { virtualAddress & ~(Self.pageSize - 1) }
    /// One past the last page the segment touches (page aligned).
    public var endPage: UInt64 { (end + Self.pageSize - 1) & ~(Self.pageSize - 1) }
    public var pageCount: UInt64 { (endPage - firstPage) / Self.pageSize }

    public func contains(_ address: UInt64) -> Bool { address >= virtualAddress && address < end }

    /// The byte of the loaded image at virtual `address` (inside the segment's pages): the file offset it comes
    /// from, or nil where memory is zero (before the segment in its first page, and the bss tail).
    public func fileOffset(ofVirtual address: UInt64) -> UInt64? {
        guard address >= virtualAddress, address - virtualAddress < fileSize else { return nil }
        return fileOffset + (address - virtualAddress)
    }
}
