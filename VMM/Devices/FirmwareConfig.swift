/// QEMU's firmware configuration interface (fw_cfg, docs/specs/fw_cfg.rst), the traditional I/O-port form test
/// kernels and firmware probe: a 16-bit write of a key to the selector port 0x510 selects an item and rewinds
/// it; each 8-bit read of the data port 0x511 returns its next byte, and 0 past its end or for an unknown key.
/// Items: the signature "QEMU" (key 0x00), the interface ID (0x01: bit 0, traditional interface; no DMA),
/// the RAM size (0x03, 64-bit little-endian), the CPU count (0x05 FW_CFG_NB_CPUS and 0x0f FW_CFG_MAX_CPUS,
/// 16-bit), and the file directory (0x19: big-endian count, then 64-byte entries) of the named files added.
/// Other accesses do what QEMU's port pair does: writes to the data port and accesses of other widths are
/// ignored, reads that are not the data port's return all ones.
public final class FirmwareConfig: PortIODevice {
    public static let selectorPort: UInt16 = 0x510
    public static let dataPort: UInt16 = 0x511

    public enum Key {
        public static let signature: UInt16 = 0x00
        public static let interfaceID: UInt16 = 0x01
        public static let ramSize: UInt16 = 0x03
        public static let cpuCount: UInt16 = 0x05
        public static let maximumCPUs: UInt16 = 0x0f
        public static let fileDirectory: UInt16 = 0x19
        /// Files get keys from here on, in name order (as QEMU assigns them).
        public static let firstFile: UInt16 = 0x20
    }

    /// A directory entry's name field holds at most 55 bytes and a terminating zero.
    public static let maximumFileNameLength = 55
    public static let maximumFileCount = 0x3fe0

    public enum FileError: Error, Equatable {
        case nameTooLong(String)
        case emptyName
        case duplicateName(String)
        case tooManyFiles

        public var message: String {
            switch self {
            case .nameTooLong(let name): return "fw_cfg file name '\(name)' is longer than 55 bytes"
            case .emptyName: return "fw_cfg file name is empty"
            case .duplicateName(let name): return "fw_cfg file '\(name)' is added twice"
            case .tooManyFiles: return "fw_cfg has no key left for another file"
            }
        }
    }

    private struct File {
        let name: [UInt8]
        let contents: [UInt8]
    }

    private var fixedItems: [(key: UInt16, bytes: [UInt8])]
    private var files: [File] = []
    public private(set) var selectedKey: UInt16 = 0
    private var selectedBytes: [UInt8]
    private var readOffset = 0

    public init(cpuCount: UInt16, ramSize: UInt64) {
        fixedItems = [
            (Key.signature, Array("QEMU".utf8)),
            (Key.interfaceID, Self.little(UInt64(1), 4)),
            (Key.ramSize, Self.little(ramSize, 8)),
            (Key.cpuCount, Self.little(UInt64(cpuCount), 2)),
            (Key.maximumCPUs, Self.little(UInt64(cpuCount), 2)),
        ]
        selectedBytes = fixedItems[0].bytes
    }

    /// Adds a named file (an "etc/..." item); keys are reassigned in name order, like QEMU's.
    public func addFile(name: String, contents: [UInt8]) throws(FileError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw .emptyName }
        guard bytes.count <= Self.maximumFileNameLength else { throw .nameTooLong(name) }
        guard files.count < Self.maximumFileCount else { throw .tooManyFiles }
        guard !files.contains(where: { $0.name == bytes }) else { throw .duplicateName(name) }
        files.append(File(name: bytes, contents: contents))
        files.sort { $0.name.lexicographicallyPrecedes($1.name) }
        select(selectedKey)
    }

    /// The key a named file has now, if it exists.
    public func key(ofFile name: String) -> UInt16? {
        let bytes = Array(name.utf8)
        guard let index = files.firstIndex(where: { $0.name == bytes }) else { return nil }
        return Key.firstFile + UInt16(index)
    }

    private func contents(of key: UInt16) -> [UInt8] {
        if key == Key.fileDirectory { return directory() }
        if key >= Key.firstFile, Int(key - Key.firstFile) < files.count { return files[Int(key - Key.firstFile)].contents }
        for item in fixedItems where item.key == key { return item.bytes }
        return []
    }

    /// struct FWCfgFiles: be32 count, then per file be32 size, be16 select, be16 reserved, char name[56].
    private func directory() -> [UInt8] {
        var bytes = Self.big(UInt64(files.count), 4)
        for (index, file) in files.enumerated() {
            bytes += Self.big(UInt64(file.contents.count), 4)
            bytes += Self.big(UInt64(Key.firstFile) + UInt64(index), 2)
            bytes += [0, 0]
            bytes += file.name + [UInt8](repeating: 0, count: 56 - file.name.count)
        }
        return bytes
    }

    private func select(_ key: UInt16) {
        selectedKey = key
        selectedBytes = contents(of: key)
        readOffset = 0
    }

    // MARK: - PortIODevice

    public func portRead(_ port: UInt16, size: Int) -> UInt32 {
        guard port == Self.dataPort, size == 1 else {
            return size >= 4 ? 0xffff_ffff : (UInt32(1) << (8 * UInt32(max(size, 0)))) &- 1  // floats to all ones
        }
        guard readOffset < selectedBytes.count else { return 0 }
        let byte = selectedBytes[readOffset]
        readOffset += 1
        return UInt32(byte)
    }

    public func portWrite(_ port: UInt16, size: Int, value: UInt32) {
        // Data-port writes have been ignored since QEMU 2.4; other widths are not the interface's.
        guard port == Self.selectorPort, size == 2 else { return }
        select(UInt16(truncatingIfNeeded: value))
    }

    static func little(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func big(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
