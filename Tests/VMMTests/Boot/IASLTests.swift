import Foundation
import XCTest
@testable import GuestBoot

/// The tables disassembled by ACPICA's iasl (Debian's acpica-tools, installed by tools/install-deps): an outside
/// reader's view of every table, its checksum and the DSDT's AML.
final class IASLTests: XCTestCase {
    private func disassemble(_ table: [UInt8], name: String) throws -> String {
        let iasl = "/usr/bin/iasl"
        guard FileManager.default.isExecutableFile(atPath: iasl) else {
            XCTFail("\(iasl) is missing: run tools/install-deps (Debian package acpica-tools)")
            throw CocoaError(.fileNoSuchFile)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iasl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("\(name).dat")
        try Data(table).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: iasl)
        process.arguments = ["-d", input.path]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log)
        XCTAssertFalse(log.lowercased().contains("error"), log)
        let dsl = try String(contentsOf: folder.appendingPathComponent("\(name).dsl"), encoding: .utf8)
        XCTAssertFalse(dsl.contains("Incorrect checksum"), dsl)
        XCTAssertFalse(dsl.contains("Invalid"), dsl)
        return dsl
    }

    private func table(_ signature: String, _ platform: GuestPlatform = GuestPlatform()) throws -> [UInt8] {
        let tables = try ACPITables(platform: platform)
        let t = try XCTUnwrap(tables.tables.first { $0.signature == signature })
        let start = Int(t.address - tables.base)
        return Array(tables.bytes[start..<start + t.length])
    }

    /// "Name : Value" lines of a data-table disassembly (fields and decoded flags), without the "[offset]" prefix,
    /// spaces collapsed.
    private func fields(_ dsl: String) -> [String] {
        dsl.split(separator: "\n").compactMap { line in
            var text = line[...]
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") { text = line[line.index(after: close)...] }
            guard text.contains(" : ") else { return nil }
            return text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
    }

    func testDSDTDisassemblesWithS5AndPCI0() throws {
        let dsl = try disassemble(try table("DSDT"), name: "dsdt")
        let compact = dsl.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        XCTAssertTrue(compact.contains("Name (\\_S5, Package (0x04) // _S5_: S5 System State { 0x05, 0x05, Zero, Zero })"), dsl)
        XCTAssertTrue(compact.contains("Scope (\\_SB) { Device (PCI0) { Name (_HID, EisaId (\"PNP0A03\") /* PCI Bus */)"), dsl)
        for resource in ["WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, // Granularity 0x0000, // Range Minimum 0x00FF,",
                         "IO (Decode16, 0x0CF8, // Range Minimum 0x0CF8, // Range Maximum 0x01, // Alignment 0x08, // Length",
                         "0x0000, // Range Minimum 0x0CF7, // Range Maximum",
                         "0x0D00, // Range Minimum 0xFFFF, // Range Maximum",
                         "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0x00000000, // Granularity 0xC0000000, // Range Minimum 0xFEBFFFFF, // Range Maximum"] {
            XCTAssertTrue(compact.contains(resource), resource)
        }
        var routed = GuestPlatform()
        routed.pciHostBridge?.interruptRoutes = [.init(device: 3, pin: 2, gsi: 18)]
        let withRoutes = try disassemble(try table("DSDT", routed), name: "dsdt-prt")
        let routes = withRoutes.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        XCTAssertTrue(routes.contains("Name (_PRT, Package (0x01) // _PRT: PCI Routing Table { Package (0x04) { 0x0003FFFF, 0x02, Zero, 0x12 } })"), withRoutes)
    }

    func testFADT() throws {
        let f = fields(try disassemble(try table("FACP"), name: "facp"))
        for line in ["Revision : 06", "Table Length : 00000114", "SCI Interrupt : 0009", "SMI Command Port : 00000000",
                     "PM1A Event Block Address : 00000600", "PM1A Control Block Address : 00000604",
                     "PM1 Event Block Length : 04", "PM1 Control Block Length : 02", "PM Timer Block Address : 00000000",
                     "Value to cause reset : 06", "Address : 0000000000000CF9", "Address : 0000000000000600",
                     "Address : 0000000000000604", "Hardware Reduced (V5) : 0", "Reset Register Supported (V2) : 1",
                     "Control Method Power Button (V1) : 0", "8042 Present on ports 60/64 (V2) : 0"] {
            XCTAssertTrue(f.contains(line), "missing \(line) in \(f)")
        }
        // The 32- and 64-bit DSDT pointers agree; the FACS is in the 32-bit one only (ACPI 6: not both).
        func addresses(_ name: String) -> [UInt64?] {
            f.filter { $0.hasPrefix(name + " Address : ") }.map { $0.split(separator: " ").last.flatMap { UInt64($0, radix: 16) } }
        }
        XCTAssertEqual(addresses("DSDT").count, 2)
        XCTAssertEqual(Set(addresses("DSDT")).count, 1)
        XCTAssertEqual(addresses("FACS").count, 2)
        XCTAssertEqual(addresses("FACS").last, 0)
        XCTAssertNotEqual(addresses("FACS").first, 0)
    }

    func testMADT() throws {
        var platform = GuestPlatform()
        platform.vcpuCount = 3
        let f = fields(try disassemble(try table("APIC", platform), name: "apic"))
        XCTAssertTrue(f.contains("Local Apic Address : FEE00000"), "\(f)")
        XCTAssertEqual(f.filter { $0 == "Subtable Type : 00 [Processor Local APIC]" }.count, 3)
        XCTAssertEqual(f.filter { $0.hasPrefix("Local Apic ID : ") }, ["Local Apic ID : 00", "Local Apic ID : 01", "Local Apic ID : 02"])
        XCTAssertEqual(f.filter { $0 == "Subtable Type : 01 [I/O APIC]" }.count, 1)
        XCTAssertTrue(f.contains("Address : FEC00000"))
        XCTAssertEqual(f.filter { $0 == "Subtable Type : 02 [Interrupt Source Override]" }.count, 2)
        XCTAssertEqual(f.filter { $0.hasPrefix("Interrupt : ") }, ["Interrupt : 00000000", "Interrupt : 00000002", "Interrupt : 00000009"])
        XCTAssertTrue(f.contains("Interrupt Input LINT : 01"))
    }

    func testOtherTablesDisassemble() throws {
        XCTAssertTrue(fields(try disassemble(try table("XSDT"), name: "xsdt")).contains { $0.hasPrefix("ACPI Table Address 1 : ") })
        XCTAssertTrue(fields(try disassemble(try table("RSDT"), name: "rsdt")).contains { $0.hasPrefix("ACPI Table Address 1 : ") })
        XCTAssertTrue(fields(try disassemble(try table("FACS"), name: "facs")).contains("Length : 00000040"))
        // (iasl does not disassemble a lone RSDP; ACPITablesTests reads it back.)
    }
}
