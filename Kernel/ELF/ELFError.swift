/// Everything that can be wrong with an ELF file we are asked to load. Each case names the offending field or
/// program header so a loader (kernel, root task, mkimage) can print where the file is broken.
public enum ELFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the 64-byte ELF64 header.
    case tooShort(size: UInt64)
    /// The first four bytes are not 0x7f 'E' 'L' 'F'.
    case badMagic
    /// EI_CLASS is not ELFCLASS64.
    case notELF64(elfClass: UInt8)
    /// EI_DATA is not ELFDATA2LSB.
    case notLittleEndian(encoding: UInt8)
    /// EI_VERSION or e_version is not EV_CURRENT.
    case badVersion(version: UInt64)
    /// e_machine is not EM_X86_64 (62).
    case notX86_64(machine: UInt16)
    /// e_type is not ET_EXEC (2): relocatable, shared and position-independent files are not loaded.
    case notExecutable(type: UInt16)
    /// e_ehsize or e_phentsize does not match ELF64.
    case badHeaderSize(field: HeaderSizeField, value: UInt16)
    /// The program header table (e_phoff, e_phnum) lies partly outside the file.
    case programHeadersOutOfFile(offset: UInt64, count: UInt16)
    /// e_phnum exceeds `ELFImage.maxProgramHeaders` (or is the extended-numbering escape 0xffff).
    case tooManyProgramHeaders(count: UInt16)
    /// No PT_LOAD segment: nothing to load.
    case noLoadableSegments
    /// A program header type that needs a dynamic linker or runtime support we do not have (PT_INTERP, PT_DYNAMIC, PT_TLS, PT_SHLIB).
    case unsupportedSegment(index: Int, type: UInt32)
    /// The segment's file bytes (p_offset, p_filesz) lie partly outside the file.
    case segmentOutOfFile(index: Int)
    /// p_filesz is larger than p_memsz.
    case fileSizeExceedsMemorySize(index: Int)
    /// p_vaddr + p_memsz wraps around the address space, or the segment is empty in memory.
    case badSegmentSize(index: Int)
    /// p_vaddr and p_offset are not congruent modulo the page size, so the segment cannot be mapped page by page.
    case misalignedSegment(index: Int)
    /// Two PT_LOAD segments share a virtual page (they would need different permissions on one page).
    case overlappingSegments(first: Int, second: Int)
    /// e_entry is not inside any PT_LOAD segment.
    case entryNotInSegment(entry: UInt64)
    /// e_entry is inside a PT_LOAD segment without the execute flag.
    case entryNotExecutable(entry: UInt64, index: Int)
    /// A segment lies outside the virtual range the loader allows (see `ELFImage.checkSegments(within:)`).
    case segmentOutsideAllowedRange(index: Int)

    public enum HeaderSizeField: Equatable, Sendable {
        case elfHeader, programHeaderEntry
    }

    public var description: String {
        switch self {
        case .tooShort(let size):
            return "ELF file too short: \(size) bytes, the ELF64 header needs 64"
        case .badMagic:
            return "not an ELF file: bad magic (expected 7f 45 4c 46)"
        case .notELF64(let elfClass):
            return "not a 64-bit ELF file: class \(elfClass), expected 2 (ELFCLASS64)"
        case .notLittleEndian(let encoding):
            return "not a little-endian ELF file: data encoding \(encoding), expected 1 (ELFDATA2LSB)"
        case .badVersion(let version):
            return "unsupported ELF version \(version), expected 1"
        case .notX86_64(let machine):
            return "not an x86-64 ELF file: machine \(machine), expected 62 (EM_X86_64)"
        case .notExecutable(let type):
            return "not an executable ELF file: type \(type), expected 2 (ET_EXEC)"
        case .badHeaderSize(let field, let value):
            switch field {
            case .elfHeader: return "bad ELF header size e_ehsize \(value), expected 64"
            case .programHeaderEntry: return "bad program header entry size e_phentsize \(value), expected 56"
            }
        case .programHeadersOutOfFile(let offset, let count):
            return "program header table (offset \(hex(offset)), \(count) entries) lies outside the file"
        case .tooManyProgramHeaders(let count):
            return "too many program headers: \(count), at most \(ELFImage.maxProgramHeaders)"
        case .noLoadableSegments:
            return "no PT_LOAD segment: nothing to load"
        case .unsupportedSegment(let index, let type):
            return "program header \(index): unsupported type \(hex(UInt64(type))) (dynamic linking and TLS are not supported)"
        case .segmentOutOfFile(let index):
            return "program header \(index): segment file bytes lie outside the file"
        case .fileSizeExceedsMemorySize(let index):
            return "program header \(index): file size is larger than memory size"
        case .badSegmentSize(let index):
            return "program header \(index): segment is empty or wraps around the address space"
        case .misalignedSegment(let index):
            return "program header \(index): virtual address and file offset differ modulo the page size"
        case .overlappingSegments(let first, let second):
            return "program headers \(first) and \(second): PT_LOAD segments share a page"
        case .entryNotInSegment(let entry):
            return "entry point \(hex(entry)) is not inside any PT_LOAD segment"
        case .entryNotExecutable(let entry, let index):
            return "entry point \(hex(entry)) is in program header \(index), which is not executable"
        case .segmentOutsideAllowedRange(let index):
            return "program header \(index): segment lies outside the allowed address range"
        }
    }
}

/// "0x" followed by lowercase hex digits; written out by hand so it stays Embedded-clean.
func hex(_ value: UInt64) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    var text = ""
    var v = value
    repeat {
        text.insert(digits[Int(v & 0xf)], at: text.startIndex)
        v >>= 4
    } while v != 0
    return "0x" + text
}
