import Foundation
import XCTest

/// A CPU exception in kernel mode is a kernel bug: the kernel must print every register on COM1 and leave QEMU
/// with the fault status. The tests patch a kernel function that runs right after the kernel installed its IDT
/// (heap_used_bytes, called for the boot report).
final class KernelFaultTests: XCTestCase {
    func testKernelModeExceptionPrintsARegisterDumpAndExitsWithTheFaultStatus() throws {
        let (output, status, address) = try Self.bootWithPatchedKernel(function: "heap_used_bytes", bytes: [0x0f, 0x0b]) // ud2
        XCTAssertEqual(status, 2, "expected the kernel-fault status: \(output)")
        XCTAssertTrue(output.contains("kernel: FATAL: CPU exception in kernel mode"), output)
        XCTAssertTrue(output.contains("vector=0x0000000000000006"), output)
        XCTAssertTrue(output.contains("rip=0x" + String(format: "%016llx", address)), output)
        for register in ["error=", "cr2=", "rsp=", "rflags=", "rax=", "rbx=", "rcx=", "rdx=", "rsi=", "rdi=", "rbp=",
                         "r8=", "r9=", "r10=", "r11=", "r12=", "r13=", "r14=", "r15="] {
            XCTAssertTrue(output.contains(register), "dump lacks \(register): \(output)")
        }
    }

    /// Endless recursion runs into the unmapped guard page below the kernel stack: the page fault cannot be
    /// delivered on that stack, the double fault runs on IST1 and still prints the dump.
    func testKernelStackOverflowHitsTheGuardPageAndIsReported() throws {
        // call rel32 -5: the function calls itself forever.
        let (output, status, _) = try Self.bootWithPatchedKernel(function: "heap_used_bytes",
                                                             bytes: [0xe8, 0xfb, 0xff, 0xff, 0xff])
        XCTAssertEqual(status, 2, "expected the kernel-fault status: \(output)")
        XCTAssertTrue(output.contains("kernel: FATAL: CPU exception in kernel mode"), output)
        XCTAssertTrue(output.contains("vector=0x0000000000000008"), output)
    }

    /// Boots out/minimal.img with `bytes` written over the start of a kernel function that runs right after the
    /// kernel installed its IDT; returns the console output, tools/run's status (tools/run-bochs' when `onBochs`)
    /// and the function's address.
    static func bootWithPatchedKernel(function: String, bytes: [UInt8], onBochs: Bool = false) throws
        -> (String, Int32, UInt64) {
        let image = try BuiltImage.image("minimal")
        let kernelELF = try BuiltImage.require(BuiltImage.out.appendingPathComponent("kernel.elf"))
        let symbols = try ImageTools.run("/usr/bin/env", ["nm", kernelELF.path])
        XCTAssertEqual(symbols.status, 0, symbols.output)
        let line = try XCTUnwrap(symbols.output.split(separator: "\n").first { $0.hasSuffix(" T \(function)") })
        let address = try XCTUnwrap(UInt64(line.split(separator: " ")[0], radix: 16))

        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var kernel = try BuiltImage.read(image, "::/hv/kernel.elf", in: dir)
        let offset = try XCTUnwrap(fileOffset(ofAddress: address, in: [UInt8](kernel)), "no segment holds \(function)")
        for (i, byte) in bytes.enumerated() { kernel[offset + i] = byte }
        let broken = try BuiltImage.copy(image, replacing: "::/hv/kernel.elf", with: kernel, in: dir)
        let arguments = [broken.path, "--timeout", "45"]
        let result = onBochs ? try ImageTools.runBochsScript(arguments) : try ImageTools.runScript(arguments)
        return (result.output, result.status, address)
    }

    /// Where a virtual address of a PT_LOAD segment lives in the ELF file (64-bit little-endian).
    private static func fileOffset(ofAddress address: UInt64, in elf: [UInt8]) -> Int? {
        func word(_ at: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(elf[at + $1]) << UInt64(8 * $1) }
        }
        let programHeaders = Int(word(32, 8)), count = Int(word(56, 2)), size = Int(word(54, 2))
        for i in 0..<count {
            let p = programHeaders + i * size
            guard word(p, 4) == 1 else { continue } // PT_LOAD
            let offset = word(p + 8, 8), vaddr = word(p + 16, 8), fileSize = word(p + 32, 8)
            if address >= vaddr && address < vaddr + fileSize { return Int(offset + address - vaddr) }
        }
        return nil
    }
}
