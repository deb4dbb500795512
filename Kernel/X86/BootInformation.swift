import BootFormat
import Kernel
import X86Shims

/// Why the loader's hand-over cannot be used; each case says what was wrong.
enum BootInformationError: Error, CustomStringConvertible {
    case badMagic(UInt64)
    case tooManyRegions(UInt64)
    case badBundle(BootBundleError)
    case missingRootTask

    var description: String {
        switch self {
        case .badMagic(let m): return "boot information has bad magic 0x\(String(m, radix: 16)) (loader mismatch?)"
        case .tooManyRegions(let n): return "boot information lists \(n) memory regions (at most \(HV_BOOT_MAX_REGIONS))"
        case .badBundle(let e): return "boot bundle: \(e)"
        case .missingRootTask: return "boot bundle has no \"roottask\" module"
        }
    }
}

/// Turns the loader's `hv_boot_info` (Kernel/X86/include/boot_info.h) into the kernel's `BootConfiguration`,
/// validating the bundle (every entry and the checksum) and locating the root task's ELF inside it.
enum BootInformation {
    static func configuration(_ info: UnsafePointer<hv_boot_info>, ticksPerMillisecond: UInt64)
        throws(BootInformationError) -> BootConfiguration {
        let boot = info.pointee
        guard boot.magic == HV_BOOT_INFO_MAGIC else { throw .badMagic(boot.magic) }
        guard boot.region_count <= UInt64(HV_BOOT_MAX_REGIONS) else { throw .tooManyRegions(boot.region_count) }

        let bundleBytes = UnsafePointer<UInt8>(bitPattern: UInt(boot.bundle_base))!
        let bundle: BootBundle
        do {
            bundle = try BootBundle.read(size: Int(boot.bundle_size)) { bundleBytes[$0] }
        } catch {
            throw .badBundle(error)
        }
        guard let root = bundle.entry(named: "roottask") else { throw .missingRootTask }

        var free: [PhysicalRange] = []
        withUnsafeBytes(of: boot.regions) { raw in
            let regions = raw.bindMemory(to: hv_memory_region.self)
            for i in 0..<Int(boot.region_count) {
                free.append(PhysicalRange(base: regions[i].base, size: regions[i].size))
            }
        }
        return BootConfiguration(
            freeMemory: free,
            rootImage: PhysicalRange(base: boot.bundle_base + root.offset, size: root.size),
            bundle: PhysicalRange(base: boot.bundle_base, size: boot.bundle_size),
            ticksPerMillisecond: ticksPerMillisecond,
            interruptCount: UInt64(X86_IRQ_COUNT))
    }
}
