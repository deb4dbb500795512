import XCTest
@testable import GuestBoot

/// The loader with Debian's cloud kernel and a stand-in initrd in a 256 MiB VM, and the ways it refuses to load.
final class LinuxBootLoaderTests: XCTestCase {
    static let ram = 256 << 20
    let commandLine = "console=ttyS0 panic=-1"

    private func load(_ kernel: [UInt8], initrd: [UInt8], commandLine: String, ram: Int = LinuxBootLoaderTests.ram,
                      platform: GuestPlatform = GuestPlatform()) throws -> (LinuxBootPlan, TestRAM) {
        let image = try LinuxImage(bytes: kernel)
        let memory = TestRAM(size: ram)
        let plan = try LinuxBootLoader.load(image: image, kernelByte: { kernel[Int($0)] }, initrdSize: UInt64(initrd.count),
                                            initrdByte: { initrd[Int($0)] }, commandLine: commandLine,
                                            platform: platform, into: memory)
        return (plan, memory)
    }

    private func loadError(_ kernel: [UInt8], initrdSize: Int, commandLine: String, ram: Int = LinuxBootLoaderTests.ram,
                           file: StaticString = #filePath, line: UInt = #line) -> LinuxBootError? {
        do {
            let image = try LinuxImage(bytes: kernel)
            let memory = TestRAM(size: ram)
            _ = try LinuxBootLoader.load(image: image, kernelByte: { kernel[Int($0)] }, initrdSize: UInt64(initrdSize),
                                         initrdByte: { _ in 0 }, commandLine: commandLine, platform: GuestPlatform(),
                                         into: memory)
            XCTFail("loaded", file: file, line: line)
        } catch let e as LinuxBootError {
            return e
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return nil
    }

    func testLoadsDebianKernel() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let image = try LinuxImage(bytes: kernel)
        let initrd = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let (plan, memory) = try load(kernel, initrd: initrd, commandLine: commandLine)

        // The kernel at pref_address, entered at +0x200 with rsi = boot_params, in 64-bit mode.
        XCTAssertEqual(plan.kernelAddress, 0x100_0000)
        XCTAssertEqual(plan.rip, 0x100_0200)
        XCTAssertEqual(plan.rsi, 0x2000)
        XCTAssertEqual(plan.rsp, 0x8000)
        XCTAssertEqual(plan.codeSelector, 0x10)
        XCTAssertEqual(plan.dataSelector, 0x18)
        XCTAssertEqual(plan.cr0 & 0x8000_0001, 0x8000_0001, "PG and PE")
        XCTAssertEqual(plan.cr4 & 0x20, 0x20, "PAE")
        XCTAssertEqual(plan.efer & 0x500, 0x500, "LME and LMA")
        let start = Int(image.setupSize)
        XCTAssertEqual(Array(memory.bytes[0x100_0000..<0x100_0000 + Int(image.kernelSize)]),
                       Array(kernel[start..<start + Int(image.kernelSize)]))
        XCTAssertEqual(memory.bytes[0x100_0000 + Int(image.kernelSize)], 0, "the signature after syssize is not copied")

        // The initrd page-aligned at the top of RAM (below initrd_addr_max), above the kernel's init_size.
        XCTAssertEqual(plan.initrdAddress, (UInt64(Self.ram) - UInt64(initrd.count)) & ~0xfff)
        XCTAssertEqual(plan.initrdAddress % 0x1000, 0)
        XCTAssertGreaterThanOrEqual(plan.initrdAddress, plan.kernelAddress + image.initSize)
        XCTAssertEqual(Array(memory.bytes[Int(plan.initrdAddress)..<Int(plan.initrdAddress) + initrd.count]), initrd)

        // boot_params: the header as in the file, then what the loader writes.
        let zp = 0x2000
        XCTAssertEqual(Array(memory.bytes[zp + 0x1f1..<zp + 0x202 + Int(kernel[0x201])]).count, image.setupHeader.count)
        XCTAssertEqual(memory.u32(zp + 0x202), 0x5372_6448)
        XCTAssertEqual(memory.u8(zp + 0x210), 0xff)
        XCTAssertEqual(memory.u32(zp + 0x228), UInt32(plan.commandLineAddress))
        XCTAssertEqual(memory.u32(zp + 0x218), UInt32(plan.initrdAddress))
        XCTAssertEqual(memory.u32(zp + 0x21c), UInt32(initrd.count))
        XCTAssertEqual(memory.u64(zp + 0x070), plan.acpi.rsdpAddress)
        XCTAssertEqual(Int(memory.u8(zp + 0x1e8)), plan.e820.entries.count)
        XCTAssertEqual(memory.u64(zp + 0x2d0 + 20 * 2 + 8), UInt64(Self.ram) - 0x10_0000, "high RAM's size")

        // The command line, NUL-terminated.
        let cmd = Int(plan.commandLineAddress)
        XCTAssertEqual(Array(memory.bytes[cmd..<cmd + commandLine.utf8.count]), Array(commandLine.utf8))
        XCTAssertEqual(memory.bytes[cmd + commandLine.utf8.count], 0)

        // The GDT's boot selectors and the identity map.
        XCTAssertEqual(plan.gdtLimit, 31)
        XCTAssertEqual(memory.u64(Int(plan.gdtBase) + 0x10), 0x00af_9b00_0000_ffff)
        XCTAssertEqual(memory.u64(Int(plan.gdtBase) + 0x18), 0x00cf_9300_0000_ffff)
        for address: UInt64 in [0, plan.rsi, plan.commandLineAddress, plan.rip, plan.kernelAddress + image.initSize - 1,
                                plan.initrdAddress, plan.initrdAddress + UInt64(initrd.count) - 1, plan.acpi.rsdpAddress,
                                plan.rsp - 8] {
            XCTAssertEqual(translate(address, cr3: plan.cr3, in: memory), address, "0x\(String(address, radix: 16))")
        }
        checkRegions(plan)
    }

    /// Nothing placed overlaps, and each region lies in one e820 entry of the type it needs.
    private func checkRegions(_ plan: LinuxBootPlan) {
        let names = plan.regions.map(\.name)
        XCTAssertEqual(names, ["GDT", "boot_params", "command line", "boot stack", "page tables", "ACPI tables",
                               "kernel (init_size)", "initrd"])
        for (i, a) in plan.regions.enumerated() {
            for b in plan.regions[(i + 1)...] {
                XCTAssertFalse(a.address < b.address + b.size && b.address < a.address + a.size, "\(a.name) / \(b.name)")
            }
            let entry = plan.e820.entries.first { $0.address <= a.address && a.address + a.size <= $0.address + $0.size }
            XCTAssertEqual(entry?.type, a.name == "ACPI tables" ? .reserved : .usable, a.name)
        }
        // rsi and the stack lie in their regions; the RSDP where Linux's scan looks.
        let region = Dictionary(uniqueKeysWithValues: plan.regions.map { ($0.name, $0) })
        XCTAssertEqual(region["boot_params"]?.address, plan.rsi)
        XCTAssertEqual(region["boot stack"].map { $0.address + $0.size }, plan.rsp)
        XCTAssertEqual(region["kernel (init_size)"]?.address, plan.rip - 0x200)
        XCTAssertTrue((0xe_0000..<0x10_0000).contains(plan.acpi.rsdpAddress))
        XCTAssertEqual(plan.acpi.rsdpAddress % 16, 0)
        XCTAssertLessThanOrEqual(plan.acpi.base + UInt64(plan.acpi.bytes.count), 0x10_0000)
    }

    /// A page walk through the loader's tables (4-level, 2 MiB pages), as the CPU would do it.
    private func translate(_ virtual: UInt64, cr3: UInt64, in memory: TestRAM) -> UInt64? {
        let pml4e = memory.u64(Int(cr3) + Int((virtual >> 39) & 0x1ff) * 8)
        guard pml4e & 1 != 0 else { return nil }
        let pdpte = memory.u64(Int(pml4e & 0x000f_ffff_ffff_f000) + Int((virtual >> 30) & 0x1ff) * 8)
        guard pdpte & 1 != 0, pdpte & 0x80 == 0 else { return nil }
        let pde = memory.u64(Int(pdpte & 0x000f_ffff_ffff_f000) + Int((virtual >> 21) & 0x1ff) * 8)
        guard pde & 1 != 0, pde & 0x80 != 0, pde & 2 != 0 else { return nil }
        return (pde & 0x000f_ffff_ffe0_0000) | (virtual & 0x1f_ffff)
    }

    func testWithoutInitrd() throws {
        let (plan, memory) = try load(SyntheticBzImage().bytes, initrd: [], commandLine: "")
        XCTAssertEqual(plan.initrdAddress, 0)
        XCTAssertEqual(plan.initrdSize, 0)
        XCTAssertEqual(memory.u32(0x2000 + 0x218), 0)
        XCTAssertEqual(memory.u8(Int(plan.commandLineAddress)), 0, "an empty command line is a NUL")
        XCTAssertFalse(plan.regions.contains { $0.name == "initrd" })
    }

    func testDebianKernelWithInitrdLargerThanRAM() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let image = try LinuxImage(bytes: kernel)
        XCTAssertEqual(loadError(kernel, initrdSize: Self.ram + 1, commandLine: commandLine),
                       .initrdDoesNotFit(size: UInt64(Self.ram + 1), lowest: 0x100_0000 + image.initSize, limit: UInt64(Self.ram)))
        // Fits in RAM, but not above the kernel.
        let size = Self.ram - 0x100_0000 - Int(image.initSize) + 1
        XCTAssertEqual(loadError(kernel, initrdSize: size, commandLine: commandLine),
                       .initrdDoesNotFit(size: UInt64(size), lowest: 0x100_0000 + image.initSize, limit: UInt64(Self.ram)))
    }

    func testInitrdBelowInitrdAddressMax() throws {
        // A header that allows initrds only below 128 MiB, in 256 MiB of RAM.
        var s = SyntheticBzImage()
        s.set(0x22c, 0x7ff_ffff, 4)
        let (plan, _) = try load(s.bytes, initrd: [UInt8](repeating: 7, count: 0x1800), commandLine: "")
        XCTAssertEqual(plan.initrdAddress, 0x800_0000 - 0x2000)
        XCTAssertLessThanOrEqual(plan.initrdAddress + plan.initrdSize - 1, 0x7ff_ffff)
    }

    func testCommandLine() throws {
        // The synthetic image allows 2047 bytes, as Debian's kernel does.
        let kernel = SyntheticBzImage().bytes
        let limit = try LinuxImage(bytes: kernel).commandLineLimit
        let longest = String(repeating: "a", count: Int(limit))
        XCTAssertNoThrow(try load(kernel, initrd: [], commandLine: longest))
        XCTAssertEqual(loadError(kernel, initrdSize: 0, commandLine: longest + "b"),
                       .commandLineTooLong(length: Int(limit) + 1, limit: limit))
        XCTAssertEqual(loadError(kernel, initrdSize: 0, commandLine: "console=ttyS0\u{0}rdinit=/x"), .commandLineHasNUL(index: 13))
        // A kernel that allows more than the loader's 4 KiB buffer is held to the buffer.
        let big = SyntheticBzImage().with(0x238, 0x10_0000, 4)
        XCTAssertEqual(loadError(big, initrdSize: 0, commandLine: String(repeating: "x", count: 4096)),
                       .commandLineTooLong(length: 4096, limit: 4095))
    }

    func testDebianKernelInRAMSmallerThanInitSize() throws {
        let kernel = try LinuxGuestArtifacts.kernel()
        let image = try LinuxImage(bytes: kernel)
        // Too small for pref_address + init_size, but enough from 2 MiB (the lowest aligned address from 1 MiB).
        let relocated = Int(0x20_0000 + image.initSize)
        let (plan, _) = try load(kernel, initrd: [], commandLine: "", ram: relocated)
        XCTAssertEqual(plan.kernelAddress, 0x20_0000)
        XCTAssertEqual(loadError(kernel, initrdSize: 0, commandLine: "", ram: relocated - 0x1000),
                       .kernelDoesNotFit(address: 0x20_0000, initSize: image.initSize, ramSize: UInt64(relocated - 0x1000)))
        XCTAssertEqual(loadError(kernel, initrdSize: 0, commandLine: "", ram: 1 << 20), .memoryMap(.ramTooSmall(ramSize: 1 << 20, minimum: 2 << 20)))
        XCTAssertTrue(LinuxBootError.kernelDoesNotFit(address: 0x20_0000, initSize: image.initSize, ramSize: 0x100_0000)
                        .description.contains("init_size"))
    }

    func testNonRelocatableKernelGoesToPreferredAddress() throws {
        var s = SyntheticBzImage()
        s.set(0x234, 0, 1)
        s.set(0x258, 0x40_0000, 8)
        let (plan, memory) = try load(s.bytes, initrd: [], commandLine: "")
        XCTAssertEqual(plan.kernelAddress, 0x40_0000)
        XCTAssertEqual(Array(memory.bytes[0x40_0000..<0x40_0000 + SyntheticBzImage.kernelSize]),
                       Array(s.bytes[2560..<2560 + SyntheticBzImage.kernelSize]))
        s.set(0x258, 0x1000_0000, 8)  // 256 MiB: at the end of RAM
        XCTAssertEqual(loadError(s.bytes, initrdSize: 0, commandLine: ""),
                       .kernelDoesNotFit(address: 0x1000_0000, initSize: 0x10_0000, ramSize: UInt64(Self.ram)))
    }

    func testMisalignedPreferredAddressIsRealigned() throws {
        let s = SyntheticBzImage().with(0x258, 0x123_4000, 8)
        let (plan, _) = try load(s, initrd: [], commandLine: "")
        XCTAssertEqual(plan.kernelAddress, 0x20_0000, "the lowest 2 MiB-aligned address from 1 MiB")
    }

    func testPlatformErrorsArePassedOn() throws {
        var platform = GuestPlatform()
        platform.vcpuCount = 0
        let s = SyntheticBzImage().bytes
        XCTAssertThrowsError(try load(s, initrd: [], commandLine: "", platform: platform)) {
            XCTAssertEqual($0 as? LinuxBootError, .acpi(.badVCPUCount(0)))
        }
        // 3.25 GiB reach into the PCI window: refused before anything is written.
        let image = try LinuxImage(bytes: s)
        XCTAssertThrowsError(try LinuxBootLoader.load(image: image, kernelByte: { s[Int($0)] }, initrdSize: 0,
                                                      initrdByte: { _ in 0 }, commandLine: "", platform: GuestPlatform(),
                                                      into: UnbackedRAM(size: 0xd000_0000))) {
            XCTAssertEqual($0 as? LinuxBootError, .memoryMap(.ramOverlapsMMIO(ramSize: 0xd000_0000, mmioStart: 0xc000_0000)))
        }
        // A memory that refuses writes is reported, not ignored.
        XCTAssertThrowsError(try LinuxBootLoader.load(image: image, kernelByte: { s[Int($0)] }, initrdSize: 0,
                                                      initrdByte: { _ in 0 }, commandLine: "", platform: GuestPlatform(),
                                                      into: UnbackedRAM(size: 64 << 20))) {
            XCTAssertEqual($0 as? LinuxBootError, .memoryWriteFailed(region: "GDT", address: 0x1000))
        }
    }
}
