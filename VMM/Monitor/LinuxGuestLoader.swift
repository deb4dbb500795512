import DeviceModels
import GuestBoot
import UserRuntime

/// A `kernel` VM whose image is a bzImage ("HdrS" at 0x202): checked by `LinuxImage`, loaded by
/// `LinuxBootLoader` (kernel, initrd, command line, boot_params with the e820 map, ACPI tables, page tables, GDT)
/// for the PC `PCMachine` models, its entry kept in the control block (`LinuxEntry`).
enum LinuxGuestLoader {
    /// Whether the image claims to be a bzImage; then every other failure is a Linux image's error.
    static func isBzImage(size: UInt64, byte: (UInt64) -> UInt8) -> Bool {
        guard size >= 0x206 else { return false }
        return byte(0x202) == 0x48 && byte(0x203) == 0x64 && byte(0x204) == 0x72 && byte(0x205) == 0x53  // "HdrS"
    }

    static func load<P>(_ vm: ComponentStartInfo.VirtualMachine, platform: P, into ram: GuestRAM<P>,
                        control: VMControlBlock<P>) -> Result<Void, LoadError> {
        let imageBase = vm.imageAddress, initrdBase = vm.initrdAddress
        var kernel = ModuleBytes(platform: platform, base: imageBase)
        var initrd = ModuleBytes(platform: platform, base: initrdBase)
        let image: LinuxImage
        do throws(LinuxImageError) {
            image = try LinuxImage(size: vm.imageSize) { platform.load8(imageBase + $0) }
        } catch {
            return .failure(.linuxImage(error.description))
        }
        let plan: LinuxBootPlan
        do throws(LinuxBootError) {
            plan = try LinuxBootLoader.load(image: image, kernelByte: { kernel.byte($0) },
                                            initrdSize: initrdBase == 0 ? 0 : vm.initrdSize,
                                            initrdByte: { initrd.byte($0) },
                                            commandLine: String(decoding: vm.commandLine, as: UTF8.self),
                                            platform: PCMachine<P>.platform, into: ram)
        } catch {
            return .failure(.linuxBoot(error.description))
        }
        LinuxEntry.store(plan, into: control)
        return .success(())
    }
}

/// A module's bytes in order, read a word at a time (the loader copies megabytes byte by byte; in the simulator
/// each platform access is a page walk).
struct ModuleBytes<P: UserPlatform> {
    let platform: P
    let base: UInt64
    private var wordAddress: UInt64 = 1  // never aligned: nothing cached yet
    private var word: UInt64 = 0

    init(platform: P, base: UInt64) {
        self.platform = platform
        self.base = base
    }

    mutating func byte(_ offset: UInt64) -> UInt8 {
        let address = base &+ offset
        let aligned = address & ~7
        if aligned != wordAddress {
            word = platform.load64(aligned)
            wordAddress = aligned
        }
        return UInt8(truncatingIfNeeded: word >> (8 * (address & 7)))
    }
}
