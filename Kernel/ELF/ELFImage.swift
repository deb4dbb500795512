/// A validated ELF64 little-endian x86-64 executable: its entry point and PT_LOAD segments, in file order.
///
/// The file is read through a byte reader so every loader can use it where its bytes are: the kernel reads physical
/// memory, the root task its physical window, mkimage and tests a host array. Only the headers are read here; the
/// loader copies segment bytes itself (see `ELFSegment.fileOffset(ofVirtual:)`).
public struct ELFImage: Equatable, Sendable {
    /// Bounded so a hostile header cannot make a loader iterate for long.
    public static let maxProgramHeaders: UInt16 = 64

    public var entry: UInt64
    public var segments: [ELFSegment]
    /// The file size the image was validated against.
    public var fileSize: UInt64

    /// Validates the file of `size` bytes whose byte at offset `i` is `byteAt(i)` (only called with i < size).
    public init(size: UInt64, byteAt: (UInt64) -> UInt8) throws(ELFError) {
        // The reader only lives for this call, so the closure does not really escape.
        self = try withoutActuallyEscaping(byteAt) { (reader) throws(ELFError) -> ELFImage in
            try ELFImage(validating: ELFFieldReader(size: size, byteAt: reader))
        }
    }

    private init(validating file: ELFFieldReader) throws(ELFError) {
        let size = file.size
        guard size >= 64 else { throw .tooShort(size: size) }
        guard file.u8(0) == 0x7f, file.u8(1) == 0x45, file.u8(2) == 0x4c, file.u8(3) == 0x46 else { throw .badMagic }
        guard file.u8(4) == 2 else { throw .notELF64(elfClass: file.u8(4)) }
        guard file.u8(5) == 1 else { throw .notLittleEndian(encoding: file.u8(5)) }
        guard file.u8(6) == 1 else { throw .badVersion(version: UInt64(file.u8(6))) }
        let type = file.u16(16), machine = file.u16(18), version = file.u32(20)
        guard machine == 62 else { throw .notX86_64(machine: machine) }
        guard type == 2 else { throw .notExecutable(type: type) }
        guard version == 1 else { throw .badVersion(version: UInt64(version)) }
        let entry = file.u64(24), phoff = file.u64(32)
        let ehsize = file.u16(52), phentsize = file.u16(54), phnum = file.u16(56)
        guard ehsize == 64 else { throw .badHeaderSize(field: .elfHeader, value: ehsize) }
        guard phnum <= Self.maxProgramHeaders else { throw .tooManyProgramHeaders(count: phnum) }
        guard phentsize == 56 || phnum == 0 else { throw .badHeaderSize(field: .programHeaderEntry, value: phentsize) }
        let tableSize = UInt64(phnum) * 56
        guard phoff <= size, tableSize <= size - phoff else { throw .programHeadersOutOfFile(offset: phoff, count: phnum) }

        var segments: [ELFSegment] = []
        for index in 0..<Int(phnum) {
            let at = phoff + UInt64(index) * 56
            let kind = file.u32(at)
            switch kind {
            case 1: // PT_LOAD
                segments.append(try Self.loadSegment(file, at: at, index: index))
            case 2, 3, 5, 7: // PT_DYNAMIC, PT_INTERP, PT_SHLIB, PT_TLS
                throw .unsupportedSegment(index: index, type: kind)
            default: // PT_NOTE, PT_PHDR, PT_GNU_STACK, ...: informational, nothing to load
                break
            }
        }
        guard !segments.isEmpty else { throw .noLoadableSegments }
        for i in 0..<segments.count {
            for j in (i + 1)..<segments.count
            where segments[i].firstPage < segments[j].endPage && segments[j].firstPage < segments[i].endPage {
                throw .overlappingSegments(first: segments[i].index, second: segments[j].index)
            }
        }
        guard let home = segments.first(where: { $0.contains(entry) }) else { throw .entryNotInSegment(entry: entry) }
        guard home.executable else { throw .entryNotExecutable(entry: entry, index: home.index) }

        self.entry = entry
        self.segments = segments
        self.fileSize = size
    }

    /// Validates a file held in a host buffer.
    public init(bytes: UnsafeRawBufferPointer) throws(ELFError) {
        try self.init(size: UInt64(bytes.count), byteAt: { bytes[Int($0)] })
    }

    /// Validates a file held in an array.
    public init(bytes: [UInt8]) throws(ELFError) {
        var result: Result<ELFImage, ELFError> = .failure(.tooShort(size: 0))
        bytes.withUnsafeBytes { buffer in
            do throws(ELFError) { result = .success(try ELFImage(bytes: buffer)) } catch { result = .failure(error) }
        }
        self = try result.get()
    }

    /// Checks that every segment lies in `lower ..< upper` (e.g. user space for components).
    public func checkSegments(within lower: UInt64, _ upper: UInt64) throws(ELFError) {
        for segment in segments where segment.firstPage < lower || segment.endPage > upper || segment.endPage == 0 {
            throw .segmentOutsideAllowedRange(index: segment.index)
        }
    }

    private static func loadSegment(_ file: ELFFieldReader, at: UInt64, index: Int) throws(ELFError) -> ELFSegment {
        let flags = file.u32(at + 4)
        let offset = file.u64(at + 8), vaddr = file.u64(at + 16)
        let fileSize = file.u64(at + 32), memorySize = file.u64(at + 40)
        guard offset <= file.size, fileSize <= file.size - offset else { throw .segmentOutOfFile(index: index) }
        guard fileSize <= memorySize else { throw .fileSizeExceedsMemorySize(index: index) }
        // The page-rounded end must not wrap either, so page arithmetic on the segment is always safe.
        guard memorySize > 0, vaddr <= UInt64.max - ELFSegment.pageSize,
              memorySize <= UInt64.max - ELFSegment.pageSize - vaddr else {
            throw .badSegmentSize(index: index)
        }
        guard vaddr % ELFSegment.pageSize == offset % ELFSegment.pageSize else { throw .misalignedSegment(index: index) }
        return ELFSegment(index: index, virtualAddress: vaddr, fileOffset: offset, fileSize: fileSize,
                          memorySize: memorySize, readable: flags & 4 != 0, writable: flags & 2 != 0,
                          executable: flags & 1 != 0)
    }
}
