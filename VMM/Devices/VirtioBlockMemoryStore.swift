/// A disk image held in the VMM's memory: either a copy it owns, or a region it borrows (the image module the
/// root task mapped into the VMM, which the caller keeps mapped for the store's lifetime). A borrowed read-only
/// region is never written. Writes to a read-write image change the memory directly; `flush` has nothing to do.
public final class VirtioBlockMemoryStore: VirtioBlockStore {
    private let base: UnsafeMutableRawPointer?
    public let byteCount: UInt64
    public let isReadOnly: Bool
    private let owned: Bool

    /// A copy of `image`, owned by the store.
    public init(image: [UInt8], readOnly: Bool) {
        byteCount = UInt64(image.count)
        isReadOnly = readOnly
        owned = true
        guard !image.isEmpty else {
            base = nil
            return
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: image.count, alignment: 16)
        image.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: image.count) }
        base = memory
    }

    /// Borrows a writable region (read-write unless `readOnly`).
    public init(borrowing region: UnsafeMutableRawBufferPointer, readOnly: Bool) {
        base = region.baseAddress
        byteCount = UInt64(region.count)
        isReadOnly = readOnly
        owned = false
    }

    /// Borrows a read-only region, such as a module mapped without write permission.
    public init(borrowingReadOnly region: UnsafeRawBufferPointer) {
        base = region.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
        byteCount = UInt64(region.count)
        isReadOnly = true
        owned = false
    }

    deinit {
        if owned { base?.deallocate() }
    }

    private func contains(_ offset: UInt64, _ count: Int) -> Bool {
        count >= 0 && offset <= byteCount && UInt64(count) <= byteCount - offset
    }

    public func read(at offset: UInt64, count: Int) -> [UInt8]? {
        guard contains(offset, count) else { return nil }
        guard count > 0, let base else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    }

    public func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool {
        guard !isReadOnly, contains(offset, bytes.count) else { return false }
        guard !bytes.isEmpty, let base else { return true }
        bytes.withUnsafeBytes { (base + Int(offset)).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return true
    }

    public func flush() -> Bool { true }
}
