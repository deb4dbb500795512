import Foundation
import XCTest

/// A CPU exception in kernel mode is a kernel bug: the kernel must print every register on COM1 and leave QEMU
/// with the fault status. The test plants `ud2` at the start of a kernel function that runs right after the
/// kernel installed its IDT (heap_used_bytes, called for the boot report).
final class KernelFaultTests: XCTestCase {
    func testKernelModeExceptionPrintsARegisterDumpAndExitsWithTheFaultStatus() throws {
        let image = try BuiltImage.image("minimal")
        let kernelELF = try BuiltImage.require(BuiltImage.out.appendingPathComponent("kernel.elf"))
        let symbols = try ImageTools.run("/usr/bin/env", ["nm", kernelELF.path])
        XCTAssertEqual(symbols.status, 0, symbols.output)
        let line = try XCTUnwrap(symbols.output.split(separator: "\n").first { $0.hasSuffix(" T heap_used_bytes") })
        let address = try XCTUnwrap(UInt64(line.split(separator: " ")[0], radix: 16))

        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var kernel = try BuiltImage.read(image, "::/hv/kernel.elf", in: dir)
        let offset = try XCTUnwrap(fileOffset(ofAddress: address, in: [UInt8](kernel)), "no segment holds the symbol")
        kernel[offset] = 0x0f // ud2
        kernel[offset + 1] = 0x0b
        let broken = try BuiltImage.copy(image, replacing: "::/hv/kernel.elf", with: kernel, in: dir)

        let result = try ImageTools.runScript([broken.path, "--timeout", "45"])
        let output = result.output
        XCTAssertEqual(result.status, 2, "expected the kernel-fault status: \(output)")
        XCTAssertTrue(output.contains("kernel: FATAL: CPU exception in kernel mode"), output)
        XCTAssertTrue(output.contains("vector=0x0000000000000006"), output)
        XCTAssertTrue(output.contains("rip=0x" + String(format: "%016llx", address)), output)
        for register in ["error=", "cr2=", "rsp=", "rflags=", "rax=", "rbx=", "rcx=", "rdx=", "rsi=", "rdi=", "rbp=",
                         "r8=", "r9=", "r10=", "r11=", "r12=", "r13=", "r14=", "r15="] {
            XCTAssertTrue(output.contains(register), "dump lacks \(register): \(output)")
        }
    }

    /// Where a virtual address of a PT_LOAD segment lives in the ELF file (64-bit little-endian).
    private func fileOffset(ofAddress address: UInt64, in elf: [UInt8]) -> Int? {
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
