/// Why a compiled manifest was rejected. Every case says what was wrong and, where it applies, at which byte offset
/// of the blob, so a corrupt image is diagnosable from the root task's console line alone.
public enum ManifestDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than the fixed header.
    case tooShort(size: Int)
    case badMagic
    case unsupportedVersion(UInt32)
    /// The header's total length is larger than the blob: the blob was cut off.
    case truncated(declared: Int, actual: Int)
    /// The blob is longer than its header says.
    case trailingBytes(declared: Int, actual: Int)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// The string table does not lie between the records and the end of the blob.
    case badStringTable(offset: Int, size: Int)
    /// A record (or its counted entries) runs past the end of the record area.
    case recordOverrun(offset: Int, what: BlobField)
    /// The records end before the string table starts: bytes nobody accounts for.
    case unusedRecordBytes(offset: Int, stringTable: Int)
    case stringOutOfTable(offset: Int, what: BlobField)
    case stringNotPrintable(offset: Int, what: BlobField)
    case emptyString(offset: Int, what: BlobField)
    case unknownFlags(offset: Int, what: BlobField, value: UInt32)
    case indexOutOfRange(offset: Int, what: BlobField, value: UInt32, count: Int)
    /// A component depends on (or uses a service of) a component that starts at the same time or later.
    case startOrder(offset: Int, component: Int, needs: Int)
    case routeKindMismatch(offset: Int)
    case notAVMM(offset: Int, component: Int)
    /// A VM's disk names a block service its VMM (component `vmm`) does not use.
    case diskServiceNotRouted(offset: Int, vmm: Int)
    case unknownImageKind(offset: Int, value: UInt32)
    /// A number outside what the field allows (zero or unaligned memory, priority, vCPUs, empty or wrapping range...).
    case badValue(offset: Int, what: BlobField, value: UInt64)
    case duplicateName(offset: Int, what: BlobField)
    /// An I/O port, MMIO page or interrupt also granted at `otherOffset`.
    case resourceConflict(offset: Int, what: BlobField, otherOffset: Int)
    case memoryExceedsMachine(total: UInt64, machine: UInt64)

    public var description: String {
        switch self {
        case .tooShort(let size):
            return "manifest blob: \(size) bytes is shorter than the \(BlobLayout.headerSize)-byte header"
        case .badMagic:
            return "manifest blob: bad magic at offset 0x0 (expected \"HVMANFST\")"
        case .unsupportedVersion(let v):
            return "manifest blob: version \(v) at offset 0x8 is not supported (expected \(BlobLayout.version))"
        case .truncated(let declared, let actual):
            return "manifest blob: truncated: header says \(declared) bytes, only \(actual) present"
        case .trailingBytes(let declared, let actual):
            return "manifest blob: \(actual) bytes but the header says \(declared)"
        case .checksumMismatch(let stored, let computed):
            return "manifest blob: checksum mismatch at offset 0x10 (stored \(hex(UInt64(stored))), computed \(hex(UInt64(computed))))"
        case .badStringTable(let offset, let size):
            return "manifest blob: string table at \(hex(offset)) of size \(size) lies outside the blob"
        case .recordOverrun(let offset, let what):
            return "manifest blob: \(what) at offset \(hex(offset)) runs past the end of the records"
        case .unusedRecordBytes(let offset, let table):
            return "manifest blob: records end at offset \(hex(offset)) but the string table starts at \(hex(table))"
        case .stringOutOfTable(let offset, let what):
            return "manifest blob: \(what) at offset \(hex(offset)) points outside the string table"
        case .stringNotPrintable(let offset, let what):
            return "manifest blob: \(what) at offset \(hex(offset)) contains a byte that is not printable ASCII"
        case .emptyString(let offset, let what):
            return "manifest blob: \(what) at offset \(hex(offset)) is empty"
        case .unknownFlags(let offset, let what, let value):
            return "manifest blob: \(what) at offset \(hex(offset)) has unknown bits set (\(hex(UInt64(value))))"
        case .indexOutOfRange(let offset, let what, let value, let count):
            return "manifest blob: \(what) \(value) at offset \(hex(offset)) is out of range (count \(count))"
        case .startOrder(let offset, let component, let needs):
            return "manifest blob: component \(component) needs component \(needs) (offset \(hex(offset))), which does not start before it"
        case .routeKindMismatch(let offset):
            return "manifest blob: route at offset \(hex(offset)) expects another kind than the service it names"
        case .notAVMM(let offset, let component):
            return "manifest blob: VM at offset \(hex(offset)) names component \(component), which is not a VMM"
        case .diskServiceNotRouted(let offset, let vmm):
            return "manifest blob: VM disk at offset \(hex(offset)) names no service of kind \"block\" that its VMM (component \(vmm)) uses"
        case .unknownImageKind(let offset, let value):
            return "manifest blob: VM image kind \(value) at offset \(hex(offset)) is unknown"
        case .badValue(let offset, let what, let value):
            return "manifest blob: \(what) \(hex(value)) at offset \(hex(offset)) is not allowed"
        case .duplicateName(let offset, let what):
            return "manifest blob: \(what) at offset \(hex(offset)) is used twice"
        case .resourceConflict(let offset, let what, let other):
            return "manifest blob: \(what) at offset \(hex(offset)) overlaps the one at \(hex(other))"
        case .memoryExceedsMachine(let total, let machine):
            return "manifest blob: components and VMs need \(hex(total)) bytes but the machine has \(hex(machine))"
        }
    }

    private func hex(_ value: Int) -> String { hex(UInt64(truncatingIfNeeded: value)) }
    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
