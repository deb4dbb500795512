import Foundation
import ManifestFormat
@testable import ManifestLanguage
import XCTest

/// The golden manifest compiles to exactly the expected model, blob bytes and DOT text.
final class GoldenManifestTests: XCTestCase {
    /// Written by hand from golden.toml: components in start order (serial first although hello is declared
    /// first, because hello uses serial's log).
    static let expected = SystemDescription(
        machineMemory: 1 << 30, interruptCount: 24,
        components: [
            ComponentDescription(name: "serial", binary: "serial", memory: 1 << 20, priority: 30, budgetMilliseconds: 2,
                                 ioPorts: [PortRange(first: 0x3f8, count: 8), PortRange(first: 0x2f8, count: 8)],
                                 interrupts: [4, 3], provides: [ServiceDescription(name: "log", kind: "log")],
                                 restartOnFault: true),
            ComponentDescription(name: "hello", binary: "hello", memory: 0x80000, priority: 10, budgetMilliseconds: 10,
                                 uses: [ServiceRoute(name: "log", kind: "log", provider: 0, service: 0)]),
            ComponentDescription(name: "disk", binary: "ahci", memory: 2 << 20, priority: 25, budgetMilliseconds: 10,
                                 mmio: [MMIORange(base: 0xfebf_0000, size: 4096)], interrupts: [11],
                                 provides: [ServiceDescription(name: "block", kind: "block")],
                                 uses: [ServiceRoute(name: "log", kind: "log", provider: 0, service: 0)], dependsOn: [0]),
            ComponentDescription(name: "vmm-a", binary: "vmm", memory: 16 << 20, priority: 20, budgetMilliseconds: 5,
                                 uses: [ServiceRoute(name: "log", kind: "log", provider: 0, service: 0),
                                        ServiceRoute(name: "storage", kind: "block", provider: 2, service: 0)],
                                 isVMM: true),
        ],
        vms: [
            VirtualMachineDescription(name: "linux-a", vmm: 3,
                                      image: .kernel(kernel: "bzImage", initrd: "initrd.img", commandLine: "console=ttyS0 quiet"),
                                      memory: 256 << 20, vcpus: 2, nested: false,
                                      services: [ServiceRoute(name: "console", kind: "log", provider: 0, service: 0)]),
            VirtualMachineDescription(name: "nested-b", vmm: 3, image: .testImage("guest-test"), memory: 64 << 20,
                                      vcpus: 1, nested: true),
        ])

    func compiledGolden() throws -> CompiledManifest {
        switch Corpus.compileGolden(try Corpus.text("golden.toml")) {
        case .success(let compiled): return compiled
        case .failure(let errors): XCTFail("golden manifest rejected:\n\(errors)"); throw errors
        }
    }

    func testGoldenManifestParsesToTheExpectedModel() throws {
        let compiled = try compiledGolden()
        XCTAssertEqual(compiled.system, Self.expected)
        XCTAssertEqual(compiled.binaries, ["serial", "hello", "ahci", "vmm", "bzImage", "initrd.img", "guest-test"])
    }

    func testGoldenBlobBytesAreStable() throws {
        let compiled = try compiledGolden()
        let hex = try Corpus.text("golden.blob.hex").filter { $0.isHexDigit }
        let expected = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        XCTAssertEqual(compiled.blob, expected, "encoding changed; if intended, bump BlobLayout.version and regenerate")
        // Independent of the golden file: the header says what the layout documents.
        XCTAssertEqual(Array(compiled.blob[0..<8]), Array("HVMANFST".utf8))
        XCTAssertEqual(ManifestDecoderProbe.u32(compiled.blob, BlobLayout.versionOffset), 3)
        XCTAssertEqual(Int(ManifestDecoderProbe.u32(compiled.blob, BlobLayout.lengthOffset)), compiled.blob.count)
        XCTAssertEqual(ManifestDecoderProbe.u32(compiled.blob, BlobLayout.componentCountOffset), 4)
        XCTAssertEqual(ManifestDecoderProbe.u32(compiled.blob, BlobLayout.vmCountOffset), 2)
        XCTAssertEqual(ManifestDecoderProbe.u64(compiled.blob, BlobLayout.machineMemoryOffset), 1 << 30)
        XCTAssertEqual(try ManifestDecoder.decode(compiled.blob), Self.expected)
    }

    func testGoldenDotOutputIsStable() throws {
        XCTAssertEqual(DotWriter.dot(try compiledGolden().system), try Corpus.text("golden.dot"))
    }

    func testExamplesCompileWithTheSharedBinaryNames() throws {
        for name in ["minimal.toml", "two-tenant.toml"] {
            let source = try String(contentsOf: Corpus.examplesDirectory.appendingPathComponent(name), encoding: .utf8)
            let result = ManifestCompiler.compile(source: source, file: name, machineMemory: 1 << 30,
                                                  binaryExists: { Corpus.exampleBinaries.contains($0) })
            guard case .success(let compiled) = result else { return XCTFail("\(name): \(result)") }
            XCTAssertEqual(try ManifestDecoder.decode(compiled.blob), compiled.system)
            XCTAssertTrue(Set(compiled.binaries).isSubset(of: Corpus.exampleBinaries))
        }
    }

    func testMinimalExampleIsSerialThenHello() throws {
        let source = try String(contentsOf: Corpus.examplesDirectory.appendingPathComponent("minimal.toml"), encoding: .utf8)
        let compiled = try ManifestCompiler.compile(source: source, file: "minimal.toml", machineMemory: 1 << 30,
                                                    binaryExists: { _ in true }).get()
        XCTAssertEqual(compiled.system.components.map { $0.name.description }, ["serial", "hello"])
        XCTAssertEqual(compiled.system.components[1].uses, [ServiceRoute(name: "log", kind: "log", provider: 0, service: 0)])
        XCTAssertEqual(compiled.system.components[0].ioPorts, [PortRange(first: 0x3f8, count: 8)])
        XCTAssertEqual(compiled.binaries, ["serial", "hello"])
    }

    func testTwoTenantExampleIsolatesTheTenants() throws {
        let source = try String(contentsOf: Corpus.examplesDirectory.appendingPathComponent("two-tenant.toml"), encoding: .utf8)
        let system = try ManifestCompiler.compile(source: source, file: "two-tenant.toml", machineMemory: 1 << 30,
                                                  binaryExists: { _ in true }).get().system
        let vmmA = try XCTUnwrap(system.componentIndex(named: "vmm-a"))
        let vmmB = try XCTUnwrap(system.componentIndex(named: "vmm-b"))
        XCTAssertEqual(system.vms(runBy: vmmA).map { $0.name }, ["guest-a"])
        XCTAssertEqual(system.vms(runBy: vmmB).map { $0.name }, ["guest-b"])
        XCTAssertEqual(system.vms(runBy: vmmB).first?.nested, true)
        // The VMMs share only the serial driver's log; the intruder is granted the log and nothing else.
        XCTAssertEqual(Set(system.components[vmmA].uses.map { $0.provider }), [0])
        XCTAssertEqual(Set(system.components[vmmB].uses.map { $0.provider }), [0])
        let intruder = try XCTUnwrap(system.componentIndex(named: "intruder"))
        XCTAssertEqual(system.components[intruder].uses.map { $0.provider }, [0])
        XCTAssertTrue(system.components[intruder].ioPorts.isEmpty && system.components[intruder].interrupts.isEmpty)
    }

    /// Every component starts after everything it needs, in all manifests we ship.
    func testStartOrderRespectsEveryDependency() throws {
        var systems = [try compiledGolden().system]
        for name in ["minimal.toml", "two-tenant.toml"] {
            let source = try String(contentsOf: Corpus.examplesDirectory.appendingPathComponent(name), encoding: .utf8)
            systems.append(try ManifestCompiler.compile(source: source, file: name, machineMemory: 1 << 30,
                                                        binaryExists: { _ in true }).get().system)
        }
        for system in systems {
            for (i, c) in system.components.enumerated() {
                for d in c.dependsOn { XCTAssertLessThan(d, i) }
                for u in c.uses { XCTAssertLessThan(u.provider, i) }
            }
            for vm in system.vms { for s in vm.services { XCTAssertLessThan(s.provider, vm.vmm) } }
        }
    }
}
