import ManifestFormat
import ManifestLanguage
import XCTest

/// `pci_devices`: both selector forms reach the compiled system, the blob carries them, and the blob decoder
/// refuses what the compiler never writes.
final class PCIDeviceManifestTests: XCTestCase {
    static let source = """
    [[component]]
    name = "pci"
    binary = "pci"
    memory = 256K

      [[component.provides]]
      name = "pci"

    [[component]]
    name = "blk"
    binary = "virtio-blk"
    memory = 1M
    pci_devices = ["1af4:1001", "00:1f.2"]

      [[component.uses]]
      name = "pci"

    [[component]]
    name = "nic"
    binary = "virtio-blk"
    memory = 1M
    pci_devices = ["00:03.0"]

      [[component.uses]]
      name = "pci"
    """

    func compile(_ source: String) -> Result<CompiledManifest, ManifestErrors> {
        ManifestCompiler.compile(source: source, file: "pci.toml", machineMemory: 1 << 30,
                                 binaryExists: { ["pci", "virtio-blk"].contains($0) })
    }

    func testSelectorsReachTheSystemAndSurviveTheBlob() throws {
        let compiled = try compile(Self.source).get()
        XCTAssertEqual(compiled.system.components.map { $0.pciDevices }, [
            [], [.ids(vendor: 0x1af4, device: 0x1001), .address(bus: 0, device: 0x1f, function: 2)],
            [.address(bus: 0, device: 3, function: 0)],
        ])
        XCTAssertEqual(try ManifestDecoder.decode(compiled.blob), compiled.system)
        XCTAssertEqual(compiled.system.components[1].pciDevices.map { $0.description }, ["1af4:1001", "00:1f.2"])
    }

    func testTheSameDeviceForTwoComponentsIsAnErrorAtTheSecond() {
        let source = Self.source.replacingOccurrences(of: "pci_devices = [\"00:03.0\"]", with: "pci_devices = [\"00:1F.2\"]")
        guard case .failure(let errors) = compile(source) else { return XCTFail("accepted") }
        XCTAssertEqual(errors.diagnostics.map(\.description), [
            "pci.toml:22:16: error: PCI device '00:1F.2' is assigned twice: to component 'nic' here and to component " +
            "'blk' (at 13:29); give each device to one component only",
        ])
    }

    func testBlobWithAnUnknownSelectorKindOrATwiceNamedDeviceIsRefused() throws {
        var system = try compile(Self.source).get().system
        system.components[2].pciDevices = [.ids(vendor: 0x1af4, device: 0x1001)]
        guard case .resourceConflict(_, .pciDevice, _)? = decodeError(ManifestEncoder.encode(system)) else {
            return XCTFail("a device twice must be a conflict")
        }
        // Kind 3 does not exist: patch the last selector's kind and fix the checksum.
        var blob = try compile(Self.source).get().blob
        let stringTable = Int(ManifestDecoderProbe.u32(blob, BlobLayout.stringTableOffsetOffset))
        let kindAt = stringTable - BlobLayout.pciDeviceSize
        XCTAssertEqual(ManifestDecoderProbe.u32(blob, kindAt), PCIDeviceSelector.addressKind)
        blob[kindAt] = 3
        reseal(&blob)
        XCTAssertEqual(decodeError(blob), .badValue(offset: kindAt, what: .pciDevice, value: 3 << 32 | 0x18))
        // An address value with bits above bus:device.function.
        blob[kindAt] = UInt8(PCIDeviceSelector.addressKind)
        blob[kindAt + 6] = 1
        reseal(&blob)
        XCTAssertEqual(decodeError(blob), .badValue(offset: kindAt, what: .pciDevice, value: 2 << 32 | 0x1_0018))
    }

    func decodeError(_ blob: [UInt8]) -> ManifestDecodeError? {
        do { _ = try ManifestDecoder.decode(blob); return nil } catch { return error }
    }

    func reseal(_ blob: inout [UInt8]) {
        let field = BlobLayout.checksumOffset..<(BlobLayout.checksumOffset + 4)
        let crc = CRC32.checksum(blob, zeroing: field)
        for i in 0..<4 { blob[BlobLayout.checksumOffset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    }

    func testSelectorTextRoundTripsAndHostileTextIsRefused() {
        for text in ["1af4:1001", "00:03.0", "ff:1f.7", "0:0.0"] {
            guard case .success(let s) = PCIDeviceSelector.parse(text) else { return XCTFail(text) }
            XCTAssertEqual(PCIDeviceSelector.decode(kind: s.kind, value: s.value), s)
        }
        for text in ["", ":", "1af4:", ":1001", "1af4:1001:1", "00:03.0.1", "100:00.0", "00:00.8", "-1:2", "0x1af4:1",
                     "1af4 :1001", "12345:1", "ffff:ffff"] {
            if case .success = PCIDeviceSelector.parse(text) { XCTFail("accepted \(text)") }
        }
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABCDEF:.x- ")
        for _ in 0..<5000 {
            let text = String((0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            if case .success(let s) = PCIDeviceSelector.parse(text) {
                XCTAssertEqual(PCIDeviceSelector.decode(kind: s.kind, value: s.value), s, text)
            }
        }
    }
}
