import ManifestFormat
@testable import ManifestLanguage
import XCTest

/// `disk_service`: a kernel VM's virtio-blk disk served by a `block` service its VMM uses. The choice reaches the
/// compiled system and survives the blob (a flag on the VM record; blobs without it keep meaning a module); the
/// checks the single-change corpus cannot show (two VMs sharing one route); the blob decoder refuses what the
/// compiler never writes.
final class DiskServiceManifestTests: XCTestCase {
    static let source = """
    [[component]]
    name = "blk"
    binary = "virtioblk"
    memory = 1M

      [[component.provides]]
      name = "block"

    [[component]]
    name = "vmm"
    binary = "vmm"
    vmm = true
    memory = 16M

      [[component.uses]]
      name = "disk"
      kind = "block"

    [[vm]]
    name = "linux"
    vmm = "vmm"
    kernel = "bzImage"
    memory = 64M
    disk_service = "disk"

    [[vm]]
    name = "other"
    vmm = "vmm"
    kernel = "bzImage"
    memory = 64M
    disk = "disk.img"
    """

    func compile(_ source: String) -> Result<CompiledManifest, ManifestErrors> {
        ManifestCompiler.compile(source: source, file: "d.toml", machineMemory: 1 << 30,
                                 binaryExists: { ["virtioblk", "vmm", "bzImage", "disk.img"].contains($0) })
    }

    func testTheRouteReachesTheSystemAndSurvivesTheBlob() throws {
        let compiled = try compile(Self.source).get()
        let vms = compiled.system.vms
        XCTAssertEqual(vms.map { $0.diskService }, ["disk", nil])
        XCTAssertEqual(vms.map { $0.disk }, [nil, "disk.img"])
        XCTAssertEqual(try ManifestDecoder.decode(compiled.blob), compiled.system)
        // The service disk is not a module the bundle must hold.
        XCTAssertEqual(ManifestCompiler.binaries(of: compiled.system).sorted(), ["bzImage", "disk.img", "virtioblk", "vmm"])
        XCTAssertTrue(DotWriter.dot(compiled.system).contains("disk from service disk"))
    }

    func testTwoVMsOfOneVMMSharingTheRouteIsAnErrorAtTheSecond() {
        let source = Self.source.replacingOccurrences(of: "disk = \"disk.img\"", with: "disk_service = \"disk\"")
        guard case .failure(let errors) = compile(source) else { return XCTFail("accepted") }
        XCTAssertEqual(errors.diagnostics.map(\.description), [
            "d.toml:31:16: error: disk_service 'disk' of VM 'other' is also the disk of VM 'linux' (at 24:16); a block " +
            "service has one client: give each VM its own route (and driver)",
        ])
    }

    func testAVMMWithoutUsesIsToldToAddOne() {
        let source = Self.source.replacingOccurrences(of: "  [[component.uses]]\n  name = \"disk\"\n  kind = \"block\"\n",
                                                      with: "")
        guard case .failure(let errors) = compile(source) else { return XCTFail("accepted") }
        XCTAssertEqual(errors.diagnostics.map(\.description), [
            "d.toml:21:16: error: disk_service 'disk' of VM 'linux' is not a service its VMM 'vmm' uses; add a " +
            "[[component.uses]] of kind \"block\" to 'vmm'",
        ])
    }

    /// What the compiler never writes: the flag with an empty string, a route the VMM does not use or of another
    /// kind, two VMs of one VMM on one route. Old blobs (flag clear) keep a module.
    func testBlobsTheCompilerNeverWritesAreRefused() throws {
        var system = try compile(Self.source).get().system
        let diskAt = try diskOffset(ManifestEncoder.encode(system), vm: 0)

        system.vms[0].diskService = "nothing"
        XCTAssertEqual(decodeError(ManifestEncoder.encode(system)), .diskServiceNotRouted(offset: diskAt, vmm: 1))
        XCTAssertEqual(ManifestDecodeError.diskServiceNotRouted(offset: diskAt, vmm: 1).description,
                       "manifest blob: VM disk at offset 0x\(String(diskAt, radix: 16)) names no service of kind " +
                       "\"block\" that its VMM (component 1) uses")
        system.vms[0].diskService = ""
        XCTAssertEqual(decodeError(ManifestEncoder.encode(system)), .emptyString(offset: diskAt, what: .disk))

        var wrongKind = try compile(Self.source).get().system
        wrongKind.components[1].uses[0].kind = "log"
        wrongKind.components[0].provides[0].kind = "log"
        XCTAssertEqual(decodeError(ManifestEncoder.encode(wrongKind)), .diskServiceNotRouted(offset: diskAt, vmm: 1))

        var shared = try compile(Self.source).get().system
        shared.vms[1].disk = nil
        shared.vms[1].diskService = "disk"
        let blob = ManifestEncoder.encode(shared)
        XCTAssertEqual(decodeError(blob), .duplicateName(offset: try diskOffset(blob, vm: 1), what: .disk))

        // The same blob with the flag cleared is a VM whose disk is the module "disk": what it meant before.
        var old = try compile(Self.source).get()
        let flagsAt = try flagsOffset(old.blob, vm: 0)
        XCTAssertEqual(ManifestDecoderProbe.u32(old.blob, flagsAt), BlobLayout.diskServiceFlag)
        old.blob = BlobFixtures.patched(old.blob, u32: 0, at: flagsAt)
        let decoded = try ManifestDecoder.decode(old.blob)
        XCTAssertEqual(decoded.vms[0].disk, "disk")
        XCTAssertNil(decoded.vms[0].diskService)
    }

    // MARK: helpers

    /// Where VM `vm`'s disk string is: the record's fixed fields, in BlobLayout's order.
    func diskOffset(_ blob: [UInt8], vm: Int) throws -> Int {
        try vmRecord(blob, vm) + 8 + 4 + 4 + 8 + 8 + 8
    }

    func flagsOffset(_ blob: [UInt8], vm: Int) throws -> Int {
        try diskOffset(blob, vm: vm) + 8 + 8 + 8
    }

    /// VM records follow the components; each here has no routes, so they are `vmFixedSize` apart.
    func vmRecord(_ blob: [UInt8], _ vm: Int) throws -> Int {
        let stringTable = Int(ManifestDecoderProbe.u32(blob, BlobLayout.stringTableOffsetOffset))
        let vmCount = Int(ManifestDecoderProbe.u32(blob, BlobLayout.vmCountOffset))
        XCTAssertEqual(vmCount, 2)
        return stringTable - (vmCount - vm) * BlobLayout.vmFixedSize
    }

    func decodeError(_ blob: [UInt8]) -> ManifestDecodeError? {
        do { _ = try ManifestDecoder.decode(blob); return nil } catch { return error }
    }
}
