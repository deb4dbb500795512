import XCTest
import DeviceModels
@testable import GuestBoot

/// The guest's ACPI tables, read back from guest memory by `ACPIReader` (which shares no code with the builder),
/// at the offsets the ACPI specification gives, and checked against the e820 map.
final class ACPITablesTests: XCTestCase {
    static let ram = 32 << 20

    private func boot(_ platform: GuestPlatform = GuestPlatform()) throws -> (LinuxBootPlan, ACPIReader) {
        let kernel = SyntheticBzImage().bytes
        let memory = TestRAM(size: Self.ram)
        let plan = try LinuxBootLoader.load(image: try LinuxImage(bytes: kernel), kernelByte: { kernel[Int($0)] },
                                            initrdSize: 0, initrdByte: { _ in 0 }, commandLine: "",
                                            platform: platform, into: memory)
        return (plan, ACPIReader(memory: memory))
    }

    private func tables(_ reader: ACPIReader) throws -> [String: ACPIReader.Table] {
        let rsdp = try XCTUnwrap(reader.scanRSDP())
        let xsdt = reader.table(at: Int(reader.memory.u64(rsdp + 24)))
        var all = ["XSDT": xsdt]
        for t in reader.xsdtEntries(xsdt) { all[t.signature] = t }
        if let fadt = all["FACP"] {
            all["DSDT"] = reader.table(at: Int(fadt.u64(140)))
            let facs = Int(fadt.u32(36))
            all["FACS"] = ACPIReader.Table(signature: "FACS", address: facs,
                                           bytes: Array(reader.memory.bytes[facs..<facs + Int(reader.memory.u32(facs + 4))]))
        }
        return all
    }

    func testRSDPIsFoundByScanAndPassedInBootParams() throws {
        let (plan, reader) = try boot()
        let rsdp = try XCTUnwrap(reader.scanRSDP())
        XCTAssertEqual(UInt64(rsdp), plan.acpi.rsdpAddress)
        XCTAssertEqual(reader.memory.u64(0x2000 + 0x70), UInt64(rsdp), "boot_params.acpi_rsdp_addr")
        let m = reader.memory
        XCTAssertEqual(m.u8(rsdp + 15), 2, "revision")
        XCTAssertEqual(m.u32(rsdp + 20), 36, "length")
        XCTAssertEqual(ACPIReader.sum(m.bytes[rsdp..<rsdp + 20]), 0, "checksum")
        XCTAssertEqual(ACPIReader.sum(m.bytes[rsdp..<rsdp + 36]), 0, "extended checksum")
        // The RSDT lists what the XSDT lists.
        let rsdt = reader.table(at: Int(m.u32(rsdp + 16)))
        let xsdt = reader.table(at: Int(m.u64(rsdp + 24)))
        XCTAssertEqual(rsdt.signature, "RSDT")
        XCTAssertEqual(xsdt.signature, "XSDT")
        XCTAssertEqual(stride(from: 36, to: rsdt.length, by: 4).map { UInt64(rsdt.u32($0)) },
                       stride(from: 36, to: xsdt.length, by: 8).map { xsdt.u64($0) })
        XCTAssertEqual(reader.xsdtEntries(xsdt).map(\.signature), ["FACP", "APIC"])
    }

    func testEveryTableChecksumsAndLength() throws {
        let (plan, reader) = try boot()
        let all = try tables(reader)
        XCTAssertEqual(Set(all.keys), ["XSDT", "FACP", "APIC", "DSDT", "FACS"])
        for (name, table) in all where name != "FACS" {
            XCTAssertEqual(ACPIReader.sum(table.bytes[...]), 0, "\(name) checksum")
            XCTAssertEqual(table.signature, name)
            XCTAssertEqual(String(decoding: table.bytes[10..<16], as: UTF8.self), "SWIFTH", "\(name) OEM id")
        }
        // The builder's own list agrees with what the reader found.
        for t in plan.acpi.tables where t.signature != "RSDT" {
            XCTAssertEqual(all[t.signature]?.address, Int(t.address), t.signature)
            XCTAssertEqual(all[t.signature]?.length, t.length, t.signature)
        }
        XCTAssertEqual(all["FACS"]?.length, 64)
        XCTAssertEqual((all["FACS"]?.address ?? 1) % 64, 0, "the FACS is 64-byte aligned")
    }

    func testFADT() throws {
        let (_, reader) = try boot()
        let all = try tables(reader)
        let fadt = try XCTUnwrap(all["FACP"])
        XCTAssertEqual(fadt.length, 276)
        XCTAssertEqual(fadt.u8(8), 6, "revision")
        XCTAssertEqual(fadt.u16(46), 9, "SCI_INT")
        XCTAssertEqual(fadt.u32(48), 0, "no SMI_CMD: always in ACPI mode")
        XCTAssertEqual(fadt.u32(56), 0x600, "PM1a_EVT_BLK")
        XCTAssertEqual(fadt.u32(64), 0x604, "PM1a_CNT_BLK")
        XCTAssertEqual(fadt.u32(60), 0, "no PM1b")
        XCTAssertEqual(fadt.u32(76), 0, "no PM timer")
        XCTAssertEqual(fadt.u8(88), 4, "PM1_EVT_LEN")
        XCTAssertEqual(fadt.u8(89), 2, "PM1_CNT_LEN")
        let flags = fadt.u32(112)
        XCTAssertEqual(flags & (1 << 20), 0, "not HW_REDUCED_ACPI")
        XCTAssertNotEqual(flags & (1 << 10), 0, "RESET_REG_SUP")
        XCTAssertEqual(flags & (1 << 4), 0, "a fixed power button")
        let boot = fadt.u16(109)
        XCTAssertEqual(boot & 0x2, 0, "no 8042")
        XCTAssertNotEqual(boot & 0x20, 0, "no CMOS RTC")
        // RESET_REG: system I/O, 8 bits, 0xcf9; RESET_VALUE 6.
        XCTAssertEqual(Array(fadt.bytes[116..<120]), [1, 8, 0, 1])
        XCTAssertEqual(fadt.u64(120), 0xcf9)
        XCTAssertEqual(fadt.u8(128), 6)
        // The X_ fields say what the 32-bit ones say.
        XCTAssertNotEqual(fadt.u32(36), 0, "FIRMWARE_CTRL")
        XCTAssertEqual(fadt.u64(132), 0, "X_FIRMWARE_CTRL must be 0 when FIRMWARE_CTRL is set")
        XCTAssertEqual(fadt.u64(140), UInt64(fadt.u32(40)), "X_DSDT")
        XCTAssertEqual(Array(fadt.bytes[148..<150]), [1, 32], "X_PM1a_EVT_BLK: system I/O, 32 bits")
        XCTAssertEqual(fadt.u64(152), 0x600)
        XCTAssertEqual(Array(fadt.bytes[172..<174]), [1, 16], "X_PM1a_CNT_BLK: system I/O, 16 bits")
        XCTAssertEqual(fadt.u64(176), 0x604)
        XCTAssertEqual(fadt.u64(208 + 4), 0, "no X_PM_TMR_BLK")
    }

    func testMADT() throws {
        var platform = GuestPlatform()
        platform.vcpuCount = 4
        let (_, reader) = try boot(platform)
        let madt = try XCTUnwrap(try tables(reader)["APIC"])
        XCTAssertEqual(madt.u32(36), 0xfee0_0000, "local APIC address")
        XCTAssertEqual(madt.u32(40), 1, "PCAT_COMPAT")
        var localAPICs: [(uid: UInt8, id: UInt8, flags: UInt32)] = []
        var ioAPICs: [(id: UInt8, address: UInt32, gsiBase: UInt32)] = []
        var overrides: [(irq: UInt8, gsi: UInt32, flags: UInt16)] = []
        var nmis = 0
        var at = 44
        while at < madt.length {
            let type = madt.u8(at), length = Int(madt.u8(at + 1))
            XCTAssertGreaterThan(length, 0)
            switch type {
            case 0: XCTAssertEqual(length, 8); localAPICs.append((madt.u8(at + 2), madt.u8(at + 3), madt.u32(at + 4)))
            case 1: XCTAssertEqual(length, 12); ioAPICs.append((madt.u8(at + 2), madt.u32(at + 4), madt.u32(at + 8)))
            case 2:
                XCTAssertEqual(length, 10)
                XCTAssertEqual(madt.u8(at + 2), 0, "bus: ISA")
                overrides.append((madt.u8(at + 3), madt.u32(at + 4), madt.u16(at + 8)))
            case 4: XCTAssertEqual(length, 6); XCTAssertEqual(madt.u8(at + 5), 1, "LINT1"); nmis += 1
            default: XCTFail("unexpected MADT entry type \(type)")
            }
            at += max(length, 1)
        }
        XCTAssertEqual(at, madt.length)
        XCTAssertEqual(localAPICs.map(\.id), [0, 1, 2, 3])
        XCTAssertEqual(localAPICs.map(\.uid), [0, 1, 2, 3])
        XCTAssertTrue(localAPICs.allSatisfy { $0.flags & 1 == 1 }, "enabled")
        XCTAssertEqual(ioAPICs.count, 1)
        XCTAssertEqual(ioAPICs.first?.id, 0)
        XCTAssertEqual(ioAPICs.first?.address, 0xfec0_0000)
        XCTAssertEqual(ioAPICs.first?.gsiBase, 0)
        XCTAssertEqual(overrides.count, 2)
        XCTAssertEqual(overrides.first.map { [UInt32($0.irq), $0.gsi, UInt32($0.flags)] }, [0, 2, 0x5], "IRQ0 -> GSI2, edge, high")
        XCTAssertEqual(overrides.last.map { [UInt32($0.irq), $0.gsi, UInt32($0.flags)] }, [9, 9, 0xd], "SCI: level, high")
        XCTAssertEqual(nmis, 1)
    }

    func testDSDTHasS5AndThePCIHostBridge() throws {
        let (_, reader) = try boot()
        let dsdt = try XCTUnwrap(try tables(reader)["DSDT"])
        XCTAssertEqual(dsdt.u8(8), 2, "revision 2: 64-bit integers")
        let aml = Array(dsdt.bytes[36...])
        let s5Name: [UInt8] = [0x5c] + Array("_S5_".utf8)
        let s5 = try XCTUnwrap(ACPIReader.find(s5Name, in: aml), "no \\_S5_")
        XCTAssertEqual(ACPIReader.integerPackage(aml, nameAt: s5, nameLength: s5Name.count), [5, 5, 0, 0])
        // Scope(\_SB_) { Device(PCI0) { Name(_HID, EisaId("PNP0A03")) ... } }
        XCTAssertEqual(aml[0], 0x10, "ScopeOp")
        let (scopeLength, scopeLengthBytes) = ACPIReader.packageLength(aml, 1)
        XCTAssertEqual(Array(aml[(1 + scopeLengthBytes)..<(6 + scopeLengthBytes)]), [0x5c] + Array("_SB_".utf8))
        let device = 6 + scopeLengthBytes
        XCTAssertEqual(Array(aml[device..<device + 2]), [0x5b, 0x82], "DeviceOp")
        let (deviceLength, deviceLengthBytes) = ACPIReader.packageLength(aml, device + 2)
        XCTAssertEqual(device + 2 + deviceLength, 1 + scopeLength, "the device ends where the scope does")
        XCTAssertEqual(Array(aml[(device + 2 + deviceLengthBytes)..<(device + 6 + deviceLengthBytes)]), Array("PCI0".utf8))
        let hid = try XCTUnwrap(ACPIReader.find(Array("_HID".utf8), in: aml))
        XCTAssertEqual(Array(aml[(hid + 5)..<(hid + 10)]), [0x0c, 0x41, 0xd0, 0x0a, 0x03], "EisaId(\"PNP0A03\")")
        XCTAssertEqual(1 + scopeLength, s5, "\\_S5_ follows the scope")
        XCTAssertNil(ACPIReader.find(Array("_PRT".utf8), in: aml), "no routes given, no _PRT")
    }

    /// Every table lies in e820-reserved memory inside the BIOS area, the APICs the MADT names are reserved, and the
    /// PCI window the DSDT gives lies above RAM in no e820 entry.
    func testTablesAgreeWithTheE820Map() throws {
        let (plan, reader) = try boot()
        let e820 = plan.e820
        let rsdp = try XCTUnwrap(reader.scanRSDP())
        var ranges = [(rsdp, 36)]
        for t in try tables(reader).values { ranges.append((t.address, t.length)) }
        for (address, length) in ranges {
            XCTAssertEqual(e820.type(of: UInt64(address), size: UInt64(length)), .reserved, "0x\(String(address, radix: 16))")
            XCTAssertGreaterThanOrEqual(address, 0x9_fc00)
            XCTAssertLessThanOrEqual(address + length, 0x10_0000)
        }
        let madt = try XCTUnwrap(try tables(reader)["APIC"])
        XCTAssertEqual(e820.type(of: UInt64(madt.u32(36)), size: 0x1000), .reserved, "local APIC")
        XCTAssertEqual(e820.type(of: 0xfec0_0000, size: 0x1000), .reserved, "IOAPIC")
        // The DWord memory descriptor of PCI0's _CRS.
        let aml = Array(try XCTUnwrap(try tables(reader)["DSDT"]).bytes[36...])
        let window = try XCTUnwrap((0..<aml.count - 26).first { aml[$0] == 0x87 && aml[$0 + 1] == 23 && aml[$0 + 3] == 0 })
        func u32(_ at: Int) -> UInt64 { (0..<4).reduce(UInt64(0)) { $0 | UInt64(aml[at + $1]) << (8 * UInt64($1)) } }
        let (start, end) = (u32(window + 10), u32(window + 14))
        XCTAssertEqual(u32(window + 22), end - start + 1, "length")
        XCTAssertGreaterThanOrEqual(start, e820.ramSize)
        XCTAssertLessThan(end, 0xfec0_0000)
        for entry in e820.entries {
            XCTAssertFalse(entry.address <= end && start < entry.address + entry.size, "window overlaps \(entry)")
        }
    }

    func testPlatformVariants() throws {
        var platform = GuestPlatform()
        platform.powerManagement = ACPIPowerManagement.Layout(eventBlock: 0xb000, controlBlock: 0xb004, s5SleepType: 0)
        platform.pciHostBridge = PCIHostBridge(interruptRoutes: [PCIInterruptRoute(device: 1, pin: 0, gsi: 16),
                                                                 PCIInterruptRoute(device: 2, pin: 1, gsi: 17)])
        platform.has8042 = true
        platform.hasCMOSRTC = true
        let (_, reader) = try boot(platform)
        let all = try tables(reader)
        let fadt = try XCTUnwrap(all["FACP"])
        XCTAssertEqual(fadt.u32(56), 0xb000)
        XCTAssertEqual(fadt.u32(64), 0xb004)
        XCTAssertEqual(fadt.u16(109) & 0x22, 0x2, "8042 present, CMOS RTC present")
        let aml = Array(try XCTUnwrap(all["DSDT"]).bytes[36...])
        let s5Name: [UInt8] = [0x5c] + Array("_S5_".utf8)
        XCTAssertEqual(ACPIReader.integerPackage(aml, nameAt: try XCTUnwrap(ACPIReader.find(s5Name, in: aml)),
                                                 nameLength: s5Name.count), [0, 0, 0, 0])
        // _PRT: Package(){Package(){0x1ffff, 0, 0, 16}, Package(){0x2ffff, 1, 0, 17}}
        let prt = try XCTUnwrap(ACPIReader.find(Array("_PRT".utf8), in: aml))
        XCTAssertEqual(aml[prt + 5], 0x12)
        let (_, lengthBytes) = ACPIReader.packageLength(aml, prt + 6)
        XCTAssertEqual(aml[prt + 6 + lengthBytes], 2, "two routes")
        let first = prt + 7 + lengthBytes
        XCTAssertEqual(ACPIReader.integerPackage([0x08, 0x41, 0x41, 0x41, 0x41] + Array(aml[first...]), nameAt: 0, nameLength: 4),
                       [0x1_ffff, 0, 0, 16])

        platform.pciHostBridge = nil
        let (_, withoutPCI) = try boot(platform)
        let dsdt = try XCTUnwrap(try tables(withoutPCI)["DSDT"])
        XCTAssertNil(ACPIReader.find(Array("_HID".utf8), in: Array(dsdt.bytes[36...])))
        XCTAssertEqual(dsdt.u8(36), 0x08, "only Name(\\_S5_, ...)")
    }

    func testRefusedPlatforms() {
        func error(_ change: (inout GuestPlatform) -> Void) -> ACPIError? {
            var platform = GuestPlatform()
            change(&platform)
            do { _ = try ACPITables(platform: platform); return nil } catch { return error }
        }
        XCTAssertEqual(error { $0.vcpuCount = 0 }, .badVCPUCount(0))
        XCTAssertEqual(error { $0.vcpuCount = 256 }, .badVCPUCount(256))
        XCTAssertNil(error { $0.vcpuCount = 255 })
        XCTAssertEqual(error { $0.powerManagement.sciLine = 16 }, .badSCILine(16))
        XCTAssertEqual(error { $0.powerManagement.sciLine = 2 }, .badSCILine(2))
        for layout in [ACPIPowerManagement.Layout(eventBlock: 0xfffe), ACPIPowerManagement.Layout(controlBlock: 0x602),
                       ACPIPowerManagement.Layout(resetPort: 0x605), ACPIPowerManagement.Layout(s5SleepType: 8)] {
            XCTAssertEqual(error { $0.powerManagement = layout }, .badPowerManagementLayout(layout))
        }
        XCTAssertEqual(error { $0.pciHostBridge?.memoryWindowEnd = 0xfec0_0000 },
                       .badPCIWindow(start: 0xc000_0000, end: 0xfec0_0000))
        let bad = PCIInterruptRoute(device: 32, pin: 0, gsi: 16)
        XCTAssertEqual(error { $0.pciHostBridge?.interruptRoutes = [bad] }, .badInterruptRoute(bad))
        XCTAssertEqual(error { $0.pciHostBridge?.interruptRoutes = [.init(device: 1, pin: 4, gsi: 16)] },
                       .badInterruptRoute(.init(device: 1, pin: 4, gsi: 16)))
        XCTAssertThrowsError(try ACPITables(platform: GuestPlatform(), base: 0xe_0010)) {
            XCTAssertEqual($0 as? ACPIError, .misalignedBase(0xe_0010))
        }
        XCTAssertThrowsError(try ACPITables(platform: GuestPlatform(), base: 0xffff_ff00)) {
            if case .doesNotFitBelow4GiB = $0 as? ACPIError {} else { XCTFail("\($0)") }
        }
    }
}
