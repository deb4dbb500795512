import ManifestFormat

/// Hand-built systems for the blob tests, independent of the manifest language.
enum BlobFixtures {
    static let system = SystemDescription(
        machineMemory: 256 << 20, interruptCount: 24,
        components: [
            ComponentDescription(name: "serial", binary: "serial", memory: 1 << 20, priority: 30, budgetMilliseconds: 2,
                                 ioPorts: [PortRange(first: 0x3f8, count: 8)], interrupts: [4],
                                 provides: [ServiceDescription(name: "log", kind: "log")], restartOnFault: true),
            ComponentDescription(name: "vmm", binary: "vmm", memory: 8 << 20, priority: 20, budgetMilliseconds: 5,
                                 mmio: [MMIORange(base: 0xfee0_0000, size: 0x1000)],
                                 uses: [ServiceRoute(name: "log", kind: "log", provider: 0, service: 0)],
                                 dependsOn: [0], isVMM: true),
        ],
        vms: [
            VirtualMachineDescription(name: "guest", vmm: 1, image: .kernel(kernel: "bzImage", initrd: nil,
                                                                            commandLine: "console=ttyS0"),
                                      memory: 64 << 20, vcpus: 2, nested: true,
                                      services: [ServiceRoute(name: "console", kind: "log", provider: 0, service: 0)]),
            VirtualMachineDescription(name: "test", vmm: 1, image: .testImage("guest-test"), memory: 16 << 20,
                                      vcpus: 1, nested: false),
        ])

    static var blob: [UInt8] { ManifestEncoder.encode(system) }

    /// Offsets of fields in `blob`, worked out from BlobLayout (header 48 bytes, serial's record first).
    static let serialRecord = BlobLayout.headerSize
    static let serialFlags = serialRecord + 8 + 8 + 8 + 8 + 8
    static let serialPortCount = serialFlags + 4
    static let serialInterrupt = serialRecord + BlobLayout.componentFixedSize + BlobLayout.portSize
    static let vmmRecord = serialRecord + BlobLayout.componentFixedSize + BlobLayout.portSize + BlobLayout.interruptSize
        + BlobLayout.serviceSize
    static let vmmMMIO = vmmRecord + BlobLayout.componentFixedSize
    static let vmmRoute = vmmMMIO + BlobLayout.mmioSize
    static let vmmDependency = vmmRoute + BlobLayout.routeSize
    static let guestRecord = vmmDependency + BlobLayout.dependencySize

    /// Writes `value` at `offset` and fixes the checksum, so only the structural checks can catch the change.
    static func patched(_ bytes: [UInt8], u32 value: UInt32, at offset: Int) -> [UInt8] {
        var b = bytes
        for i in 0..<4 { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        return resealed(b)
    }

    static func patched(_ bytes: [UInt8], u64 value: UInt64, at offset: Int) -> [UInt8] {
        var b = bytes
        for i in 0..<8 { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return resealed(b)
    }

    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        let crc = CRC32.checksum(b, zeroing: BlobLayout.checksumOffset..<(BlobLayout.checksumOffset + 4))
        for i in 0..<4 { b[BlobLayout.checksumOffset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return b
    }

    static func decodeError(_ bytes: [UInt8]) -> ManifestDecodeError? {
        do {
            _ = try ManifestDecoder.decode(bytes)
            return nil
        } catch {
            return error
        }
    }
}
