import Foundation
import XCTest

/// The kernel's second entry on Bochs: GRUB loads out/<name>.iso (tools/build-iso) through multiboot2, the stub
/// enters long mode and turns GRUB's memory map, bundle module and RSDP copy into the EFI loader's boot information
/// (Kernel/X86/multiboot2.S, multiboot2.c). tools/run-bochs maps the kernel's exit value (printed on Bochs' 0xe9
/// console) to tools/run's statuses: 0 pass, 2 kernel fault, 3 boot error.
final class BochsBootTests: XCTestCase {
    let timeout = "60"

    func testMinimalImageBootsThroughMultiboot2WithVMX() throws {
        let image = try BuiltImage.iso("minimal")
        let result = try ImageTools.runBochsScript([image.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        for line in [
            "kernel: hv starting (x86-64)",
            // The RSDP came from GRUB's ACPI tag: the Bochs BIOS's MADT routes the timer to GSI 2.
            "kernel: ACPI MADT interrupt overrides: irq 0 -> gsi 2 edge/high",
            "kernel: virtual machines: Intel VMX with EPT, VPID and unrestricted guest",
            "kernel: boot bundle ok",
            "root: all components started",
            "hello: Hello from a component, printed by the serial driver",
            "kernel: nothing can run any more, stopping",
            "run-bochs: kernel stopped cleanly (pass)",
        ] {
            XCTAssertTrue(output.contains(line), "missing '\(line)' in:\n\(output)")
        }
        // The GRUB module is the bundle; no memory below 1 MiB and none of the kernel or bundle is free memory
        // (else the heap or the pool would overwrite them and the boot would not get this far).
        XCTAssertFalse(output.contains("FATAL"), output)
    }

    /// An ESP image is turned into an ISO on the way; a bundle whose module is corrupt is the same clean boot error
    /// as through the EFI loader.
    func testCorruptBundleThroughMultiboot2IsABootError() throws {
        let image = try BuiltImage.image("minimal")
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bundle = try BuiltImage.read(image, "::/hv/bundle.bin", in: dir)
        let hello = try XCTUnwrap(BuiltImage.module("hello", in: bundle), "no hello module in the bundle")
        bundle[hello.lowerBound + 100] ^= 0xff
        let broken = try BuiltImage.copy(image, replacing: "::/hv/bundle.bin", with: bundle, in: dir)
        let result = try ImageTools.runBochsScript([broken.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 3, "expected the boot-error status: \(output)")
        XCTAssertTrue(output.contains("kernel: error: boot bundle: boot bundle checksum mismatch"), output)
        XCTAssertTrue(output.contains("run-bochs: boot error (exit 0x12)"), output)
        XCTAssertFalse(output.contains("kernel: starting root task"), output)
    }

    /// A kernel-mode exception (ud2 over a function that runs after the IDT is set) prints the register dump and
    /// ends Bochs with the fault status.
    func testKernelFaultEndsBochsWithTheFaultStatus() throws {
        let (output, status, _) = try KernelFaultTests.bootWithPatchedKernel(function: "heap_used_bytes",
                                                                              bytes: [0x0f, 0x0b], onBochs: true)
        XCTAssertEqual(status, 2, "expected the kernel-fault status: \(output)")
        XCTAssertTrue(output.contains("kernel: FATAL: CPU exception in kernel mode"), output)
        XCTAssertTrue(output.contains("vector=0x0000000000000006"), output)
        XCTAssertTrue(output.contains("run-bochs: kernel fault (exit 0x11)"), output)
    }

    func testMissingImageAndBadArgumentsAreNamed() throws {
        var result = try ImageTools.runBochsScript(["/nonexistent/none.iso"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("run-bochs: error: image '/nonexistent/none.iso' does not exist"), result.output)
        let image = try BuiltImage.iso("minimal")
        result = try ImageTools.runBochsScript([image.path, "--memory", "lots"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("--memory needs a size like 512M or 2G, got 'lots'"), result.output)
    }
}
