/// The fields of the Linux/x86 setup header ("The Real-Mode Kernel Header", Documentation/arch/x86/boot.rst), at
/// their offsets in the bzImage file, which are also their offsets in `boot_params` (the header is copied there).
/// The loader reads them in this order, so a truncated image is reported at the first field it cuts off.
public enum SetupHeaderField: Int {
    case setupSects, rootFlags, syssize, ramSize, vidMode, rootDev, bootFlag, jump, header, version
    case realmodeSwitch, startSysSeg, kernelVersion, typeOfLoader, loadFlags, setupMoveSize, code32Start
    case ramdiskImage, ramdiskSize, bootsectKludge, heapEndPtr, extLoaderVersion, extLoaderType, cmdLinePtr
    case initrdAddressMax, kernelAlignment, relocatableKernel, minAlignment, xloadFlags, cmdlineSize
    case hardwareSubarch, hardwareSubarchData, payloadOffset, payloadLength, setupData, preferredAddress, initSize
    case handoverOffset

    /// Every field, in file order.
    public static let all: [SetupHeaderField] = (0...SetupHeaderField.handoverOffset.rawValue).map {
        SetupHeaderField(rawValue: $0)!
    }

    public var offset: Int {
        switch self {
        case .setupSects: return 0x1f1
        case .rootFlags: return 0x1f2
        case .syssize: return 0x1f4
        case .ramSize: return 0x1f8
        case .vidMode: return 0x1fa
        case .rootDev: return 0x1fc
        case .bootFlag: return 0x1fe
        case .jump: return 0x200
        case .header: return 0x202
        case .version: return 0x206
        case .realmodeSwitch: return 0x208
        case .startSysSeg: return 0x20c
        case .kernelVersion: return 0x20e
        case .typeOfLoader: return 0x210
        case .loadFlags: return 0x211
        case .setupMoveSize: return 0x212
        case .code32Start: return 0x214
        case .ramdiskImage: return 0x218
        case .ramdiskSize: return 0x21c
        case .bootsectKludge: return 0x220
        case .heapEndPtr: return 0x224
        case .extLoaderVersion: return 0x226
        case .extLoaderType: return 0x227
        case .cmdLinePtr: return 0x228
        case .initrdAddressMax: return 0x22c
        case .kernelAlignment: return 0x230
        case .relocatableKernel: return 0x234
        case .minAlignment: return 0x235
        case .xloadFlags: return 0x236
        case .cmdlineSize: return 0x238
        case .hardwareSubarch: return 0x23c
        case .hardwareSubarchData: return 0x240
        case .payloadOffset: return 0x248
        case .payloadLength: return 0x24c
        case .setupData: return 0x250
        case .preferredAddress: return 0x258
        case .initSize: return 0x260
        case .handoverOffset: return 0x264
        }
    }

    /// Bytes; the next field starts right after (the header has no gaps).
    public var width: Int {
        switch self {
        case .setupSects, .typeOfLoader, .loadFlags, .extLoaderVersion, .extLoaderType, .relocatableKernel,
             .minAlignment:
            return 1
        case .rootFlags, .ramSize, .vidMode, .rootDev, .bootFlag, .jump, .version, .startSysSeg, .kernelVersion,
             .setupMoveSize, .heapEndPtr, .xloadFlags:
            return 2
        case .hardwareSubarchData, .setupData, .preferredAddress:
            return 8
        default:
            return 4
        }
    }

    /// The name Linux's documentation gives the field.
    public var name: String {
        switch self {
        case .setupSects: return "setup_sects"
        case .rootFlags: return "root_flags"
        case .syssize: return "syssize"
        case .ramSize: return "ram_size"
        case .vidMode: return "vid_mode"
        case .rootDev: return "root_dev"
        case .bootFlag: return "boot_flag"
        case .jump: return "jump"
        case .header: return "header"
        case .version: return "version"
        case .realmodeSwitch: return "realmode_swtch"
        case .startSysSeg: return "start_sys_seg"
        case .kernelVersion: return "kernel_version"
        case .typeOfLoader: return "type_of_loader"
        case .loadFlags: return "loadflags"
        case .setupMoveSize: return "setup_move_size"
        case .code32Start: return "code32_start"
        case .ramdiskImage: return "ramdisk_image"
        case .ramdiskSize: return "ramdisk_size"
        case .bootsectKludge: return "bootsect_kludge"
        case .heapEndPtr: return "heap_end_ptr"
        case .extLoaderVersion: return "ext_loader_ver"
        case .extLoaderType: return "ext_loader_type"
        case .cmdLinePtr: return "cmd_line_ptr"
        case .initrdAddressMax: return "initrd_addr_max"
        case .kernelAlignment: return "kernel_alignment"
        case .relocatableKernel: return "relocatable_kernel"
        case .minAlignment: return "min_alignment"
        case .xloadFlags: return "xloadflags"
        case .cmdlineSize: return "cmdline_size"
        case .hardwareSubarch: return "hardware_subarch"
        case .hardwareSubarchData: return "hardware_subarch_data"
        case .payloadOffset: return "payload_offset"
        case .payloadLength: return "payload_length"
        case .setupData: return "setup_data"
        case .preferredAddress: return "pref_address"
        case .initSize: return "init_size"
        case .handoverOffset: return "handover_offset"
        }
    }
}
