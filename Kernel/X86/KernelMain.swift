import BootFormat
import Kernel
import X86Shims

/// The kernel's first Swift code (called by _start in entry.S with the loader's boot information): set the CPU up,
/// check what the loader handed over, build the kernel and run it until nothing can ever run again.
@_cdecl("kernel_main")
public func kernelMain(_ info: UnsafeMutablePointer<hv_boot_info>) -> Never {
    let entryTime = x86_tsc()
    // Nothing may allocate before x86_setup has carved out the kernel heap: only static strings until then.
    print("kernel: hv starting (x86-64)")
    guard info.pointee.magic == HV_BOOT_INFO_MAGIC, info.pointee.region_count <= UInt64(HV_BOOT_MAX_REGIONS) else {
        print("kernel: error: boot information has a bad magic or region count (loader and kernel do not match)")
        haltAfterBootError()
    }
    guard x86_setup(info) != 0 else {
        print("kernel: error: no free memory region can hold the kernel heap")
        haltAfterBootError()
    }
    let platform = X86Platform()
    platform.route(acpiInterruptRouting(rsdp: info.pointee.acpi_rsdp))
    let iommuRegisters = reportDMAConfinement(rsdp: info.pointee.acpi_rsdp, platform: platform)
    print("kernel: timer \(platform.ticksPerMillisecond) ticks/ms, \(info.pointee.region_count) free memory regions, heap \(heap_used_bytes() >> 10) KiB used")
    print("kernel: virtual machines: " + platform.guestVendor.description)

    var configuration: BootConfiguration
    do {
        configuration = try BootInformation.configuration(info, ticksPerMillisecond: platform.ticksPerMillisecond)
    } catch {
        stop(because: error.description)
    }
    (configuration.deviceMemory, configuration.configurationWindows) =
        deviceMemoryAndConfigurationWindows(info, configuration, iommuRegisters: iommuRegisters)
    print("kernel: boot bundle ok, root task \(configuration.rootImage.size) bytes; \(freeBytes(configuration) >> 20) MiB free")
    let kernel: Kernel<X86Platform>
    do {
        kernel = try Kernel(platform: platform, configuration: configuration)
    } catch {
        stop(because: error.description)
    }
    // Boot cost (tools/bench-memory reads this line): TSC ticks from kernel entry to the root task, and the heap.
    let bootMicroseconds = (x86_tsc() - entryTime) * 1000 / max(platform.ticksPerMillisecond, 1)
    print("kernel: booted in \(bootMicroseconds) us, heap \(heap_used_bytes() >> 10) KiB used, "
          + "\(freeBytes(configuration) >> 20) MiB free")
    print("kernel: starting root task")
    while kernel.step() {}
    platform.reportHostNMIs()
    print("kernel: nothing can run any more, stopping")
    x86_exit_emulator(UInt32(X86_EXIT_PASS))
}

private func freeBytes(_ configuration: BootConfiguration) -> UInt64 {
    var total: UInt64 = 0
    for range in configuration.freeMemory { total += range.size }
    return total
}

/// A boot error is the loader's or the image builder's fault, not a kernel bug: say what is wrong and stop cleanly.
private func stop(because reason: String) -> Never {
    print("kernel: error: \(reason)")
    haltAfterBootError()
}

private func haltAfterBootError() -> Never {
    print("kernel: halted")
    x86_exit_emulator(UInt32(X86_EXIT_BOOT_ERROR))
}
