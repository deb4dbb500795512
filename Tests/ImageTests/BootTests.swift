import Foundation
import XCTest

/// Boots the real image in QEMU (TCG, q35, OVMF) with tools/run: loader, kernel, ring-3 root task, components.
final class BootTests: XCTestCase {
    /// Each boot takes about 10 s; anything near this is a hang.
    let timeout = "45"

    func testMinimalImageBootsKernelRootTaskAndComponents() throws {
        let image = try BuiltImage.image("minimal")
        let result = try ImageTools.runScript([image.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        for line in [
            "hv loader: starting",
            "kernel: hv starting (x86-64)",
            "kernel: boot bundle ok",
            "kernel: starting root task",
            // Printed by the root task from ring 3 through the console hypercall.
            "root: manifest ok: 2 components, 0 VMs",
            "root: serial registered service log",
            "root: all components started",
            // Printed by the hello component through the serial driver's portal (IPC between ring-3 PDs).
            "hello: Hello from a component, printed by the serial driver",
            "kernel: nothing can run any more, stopping",
            "run: kernel stopped cleanly (pass)",
        ] {
            XCTAssertTrue(output.contains(line), "missing '\(line)' in:\n\(output)")
        }
        XCTAssertFalse(output.contains("FATAL"), output)
    }

    /// examples/two-tenant.toml: every component starts in dependency order, each VMM gets its own VM only (the image
    /// has no SVM backend yet, so the kernel refuses the VM PD and each VMM says so for its own VM), and the
    /// intruder's call through a selector it was never given gets a clean error before its port write faults.
    func testTwoTenantImageStartsEveryComponentAndContainsTheIntruder() throws {
        let image = try BuiltImage.image("two-tenant")
        let result = try ImageTools.runScript([image.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        let started = output.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("root: started ") }
            .map { $0.split(separator: " ")[2] }
        XCTAssertEqual(started, ["serial", "vmm-a", "vmm-b", "hello", "intruder"], output)
        for line in [
            "root: manifest ok: 5 components, 2 VMs",
            // Both VMs run on SVM (QEMU -cpu max) and end through the debug-exit port.
            "vmm-a: guest-a: guest-test: hello from the guest",
            "vmm-a: guest-a stopped: exited through the debug-exit port with status 0x10 (pass)",
            "vmm-b: guest-b: guest-test: hello from the guest",
            "vmm-b: guest-b stopped: exited through the debug-exit port with status 0x10 (pass)",
            "hello: Hello from a component, printed by the serial driver",
            "intruder: call to ungranted selector 356 returned: bad selector",
            "root: intruder faulted: general protection fault (vector 13)",
            "root: intruder stopped (the manifest does not ask for restarts)",
            "run: kernel stopped cleanly (pass)",
        ] {
            XCTAssertTrue(output.contains(line), "missing '\(line)' in:\n\(output)")
        }
        XCTAssertFalse(output.contains("vmm-a: running guest-b") || output.contains("vmm-a: guest-b"), output)
    }

    /// ping/pong: a thousand IPC round trips, a delegated page, and a read after revocation that must fault on the
    /// real MMU (the kernel's unmap and TLB flush, and volatile user loads).
    func testPingPongRevokedPageFaultsOnTheRealMMU() throws {
        let image = try BuiltImage.image("ipc-pingpong")
        let result = try ImageTools.runScript([image.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 0, output)
        XCTAssertTrue(output.contains("ping: echo ok"), output)
        XCTAssertTrue(output.contains("ping: ipc round trip ticks="), output)
        XCTAssertTrue(output.contains("ping: shared page holds pong's pattern"), output)
        XCTAssertTrue(output.contains("root: ping faulted: page fault (vector 14)"), output)
        XCTAssertFalse(output.contains("still readable"), output)
    }

    func testCorruptModuleIsAClearBootErrorAndACleanHalt() throws {
        let image = try BuiltImage.image("minimal")
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bundle = try BuiltImage.read(image, "::/hv/bundle.bin", in: dir)
        let hello = try XCTUnwrap(BuiltImage.module("hello", in: bundle), "no hello module in the bundle")
        bundle[hello.lowerBound + 100] ^= 0xff
        let broken = try BuiltImage.copy(image, replacing: "::/hv/bundle.bin", with: bundle, in: dir)

        let result = try ImageTools.runScript([broken.path, "--timeout", timeout])
        let output = result.output
        XCTAssertEqual(result.status, 3, "expected the boot-error status: \(output)")
        XCTAssertTrue(output.contains("kernel: error: boot bundle: boot bundle checksum mismatch"), output)
        XCTAssertTrue(output.contains("kernel: halted"), output)
        XCTAssertFalse(output.contains("kernel: starting root task"), output)
        XCTAssertFalse(output.contains("FATAL"), output)
    }

    func testLoaderRejectsAKernelForAnotherMachine() throws {
        let image = try BuiltImage.image("minimal")
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var kernel = try BuiltImage.read(image, "::/hv/kernel.elf", in: dir)
        kernel[18] = 183 // e_machine = EM_AARCH64
        kernel[19] = 0
        let broken = try BuiltImage.copy(image, replacing: "::/hv/kernel.elf", with: kernel, in: dir)

        // The loader reports and returns to the firmware, which would go on to its shell: stop at the error line.
        let result = try ImageTools.runScript([broken.path, "--timeout", timeout, "--until", "hv loader: error:"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("hv loader: error: \\hv\\kernel.elf: not an x86-64 ELF"), result.output)
        XCTAssertFalse(result.output.contains("kernel: hv starting"), result.output)
    }

    func testLoaderRejectsABundleWithBadMagic() throws {
        let image = try BuiltImage.image("minimal")
        let dir = try BuiltImage.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bundle = try BuiltImage.read(image, "::/hv/bundle.bin", in: dir)
        bundle[0] = UInt8(ascii: "X")
        let broken = try BuiltImage.copy(image, replacing: "::/hv/bundle.bin", with: bundle, in: dir)

        let result = try ImageTools.runScript([broken.path, "--timeout", timeout, "--until", "hv loader: error:"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("hv loader: error: \\hv\\bundle.bin: bad magic"), result.output)
        XCTAssertFalse(result.output.contains("kernel: hv starting"), result.output)
    }
}
