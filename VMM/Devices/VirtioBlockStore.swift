/// The bytes behind a virtio block device. Offsets and counts are in bytes; the device checks requests against
/// `byteCount` before it asks, and a store refuses anything outside itself all the same.
public protocol VirtioBlockStore: AnyObject {
    var byteCount: UInt64 { get }
    var isReadOnly: Bool { get }
    /// `count` bytes at `offset`, or nil when any of them lies outside the store.
    func read(at offset: UInt64, count: Int) -> [UInt8]?
    /// False when the bytes lie outside the store or it is read-only (nothing is written then).
    func write(at offset: UInt64, _ bytes: [UInt8]) -> Bool
    /// Makes completed writes durable; false when it could not.
    func flush() -> Bool
}
