// swift-tools-version: 6.0
// One package, built two ways from the same sources: for the host (simulator, tools, `swift test`) and
// freestanding with Embedded Swift for the image (see tools/build-image). Targets used on the machine
// must stay Embedded-clean: no Foundation, no untyped `throws`, no existentials of non-class protocols.
import PackageDescription

// The simulator's guest CPU links Unicorn 2.1.4 (static, from PyPI, fetched by tools/install-deps into .deps/unicorn)
// and Capstone (Debian's libcapstone-dev). Host targets only.
let unicornDir = Context.packageDirectory + "/.deps/unicorn"

let package = Package(
    name: "Hypervisor",
    products: [
        .executable(name: "mkimage", targets: ["mkimage"]),
    ],
    dependencies: [
        // Host tool only (mkimage's command line); nothing on the machine links it.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // --- shared formats (Embedded-clean) ---
        .target(name: "KernelABI", path: "Kernel/ABI"),
        .target(name: "ELFFormat", path: "Kernel/ELF"),
        .target(name: "BootFormat", path: "Kernel/BootFormat"),
        // --- the kernel (Embedded-clean); Kernel/X86 is the bare-metal platform, built only by tools/build-image ---
        .target(name: "Kernel", dependencies: ["KernelABI", "ELFFormat", "BootFormat"], path: "Kernel/Core"),
        // --- user space (Embedded-clean) ---
        .target(name: "UserRuntime", dependencies: ["KernelABI"], path: "UserServices/Runtime"),
        .target(name: "ManifestFormat", path: "UserServices/ManifestFormat"),
        .target(name: "RootTask", dependencies: ["UserRuntime", "ManifestFormat", "ELFFormat", "BootFormat", "PCIBus"],
                path: "UserServices/RootTask"),
        .target(name: "SerialDriver", dependencies: ["UserRuntime"], path: "Drivers/Serial"),
        // PCI: the configuration-space library (enumeration, BARs, the write filter, the pci service's protocol),
        // the bus driver that serves it, and the virtio-blk driver with its block service protocol.
        .target(name: "PCIBus", dependencies: ["KernelABI", "UserRuntime", "ManifestFormat"], path: "Drivers/PCIBus"),
        .target(name: "PCIDriver", dependencies: ["KernelABI", "UserRuntime", "PCIBus"], path: "Drivers/PCI",
                exclude: ["README.md"]),
        .target(name: "BlockService", dependencies: ["KernelABI", "UserRuntime"], path: "Drivers/BlockService"),
        .target(name: "VirtioBlockDriver", dependencies: ["KernelABI", "UserRuntime", "PCIBus", "BlockService"],
                path: "Drivers/VirtioBlock", exclude: ["README.md"]),
        .target(name: "BlockCheckComponent", dependencies: ["KernelABI", "UserRuntime", "BlockService"],
                path: "UserServices/TestComponents/BlockCheck"),
        .target(name: "HelloComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/Hello"),
        .target(name: "IntruderComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/Intruder"),
        // The per-tenant VMM: builds its VMs from the start info and serves their exits.
        .target(name: "VMM", dependencies: ["KernelABI", "UserRuntime", "ELFFormat", "ManifestFormat", "DeviceModels",
                                            "GuestBoot", "InstructionDecoder", "BlockService"],
                path: "VMM/Monitor"),
        // The VMM's device models (PC platform, PCI, virtio): pure state machines behind VMM/Devices/DeviceInterfaces.swift.
        .target(name: "DeviceModels", path: "VMM/Devices"),
        // The VMM's x86 instruction decoder and emulator for MMIO exits (no dependencies; VMM/Decoder/README.md).
        .target(name: "InstructionDecoder", path: "VMM/Decoder", exclude: ["README.md"]),
        // Guest boot: the Linux x86 boot protocol loader, the e820 map and the guest's ACPI tables (Embedded-clean).
        .target(name: "GuestBoot", dependencies: ["DeviceModels"], path: "VMM/Boot", exclude: ["README.md"]),
        .target(name: "PongComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/Pong"),
        .target(name: "IRQCheckComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/IRQCheck"),
        .target(name: "MSICheckComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/MSICheck"),
        .target(name: "VMCheckComponent", dependencies: ["UserRuntime"], path: "UserServices/TestComponents/VMCheck"),
        .target(name: "PingComponent", dependencies: ["UserRuntime", "PongComponent"],
                path: "UserServices/TestComponents/Ping"),
        // --- host only ---
        // The simulated machine, with its guest CPU (Sim/Guest) on Unicorn: the simulator platform runs vCPUs on it.
        .target(name: "Sim", dependencies: ["Kernel", "UserRuntime", "ELFFormat", "BootFormat", "CUnicorn"], path: "Sim",
                exclude: ["Guest/CUnicorn"]),
        .target(name: "CUnicorn", path: "Sim/Guest/CUnicorn",
                linkerSettings: [.unsafeFlags(["-L", unicornDir + "/lib"]),
                                 .linkedLibrary("unicorn"), .linkedLibrary("capstone"),
                                 .linkedLibrary("pthread"), .linkedLibrary("m")]),
        .target(name: "ManifestLanguage", dependencies: ["ManifestFormat"], path: "tools/mkimage/ManifestLanguage"),
        .executableTarget(name: "mkimage", dependencies: ["ManifestLanguage", "ManifestFormat", "ELFFormat", "BootFormat",
                                                          .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "tools/mkimage/Main"),
        // The manifest checker's fuzz target: a corpus replayer in normal builds, libFuzzer's loop when
        // tools/fuzz-manifest builds it with -sanitize=fuzzer -DMANIFEST_FUZZ.
        .executableTarget(name: "manifest-fuzz", dependencies: ["ManifestLanguage", "ManifestFormat"],
                          path: "tools/fuzz/ManifestFuzz"),
        // --- tests mirror the source layout ---
        .testTarget(name: "KernelTests", dependencies: ["Kernel", "Sim", "KernelABI", "BootFormat", "UserRuntime"], path: "Tests/KernelTests"),
        .testTarget(name: "SimTests", dependencies: ["Sim", "Kernel", "KernelABI", "BootFormat", "UserRuntime"],
                    path: "Tests/SimTests", exclude: ["Guest/Guests"]),
        .testTarget(name: "FormatTests", dependencies: ["ELFFormat", "BootFormat"], path: "Tests/FormatTests"),
        .testTarget(name: "ManifestTests", dependencies: ["ManifestLanguage", "ManifestFormat"], path: "Tests/ManifestTests",
                    // FuzzCorpus: seeds of tools/fuzz-manifest, read from the source tree.
                    exclude: ["FuzzCorpus"], resources: [.copy("Corpus")]),
        .testTarget(name: "UserServicesTests", dependencies: ["RootTask", "Sim", "Kernel", "ManifestLanguage", "SerialDriver",
                                                                "HelloComponent", "IntruderComponent", "VMM", "PingComponent",
                                                                "PongComponent", "VMCheckComponent", "PCIBus", "PCIDriver",
                                                                "BlockService", "VirtioBlockDriver", "BlockCheckComponent"],
                    path: "Tests/UserServicesTests"),
        .testTarget(name: "DeviceModelsTests", dependencies: ["DeviceModels"], path: "Tests/VMMTests/Devices"),
        .testTarget(name: "InstructionDecoderTests", dependencies: ["InstructionDecoder", "CUnicorn"], path: "Tests/VMMTests/Decoder"),
        .testTarget(name: "GuestBootTests", dependencies: ["GuestBoot", "DeviceModels"], path: "Tests/VMMTests/Boot",
                    // QEMUFirmware: the stub firmware LinuxBootQEMUTests assembles from source.
                    exclude: ["QEMUFirmware"]),
        .testTarget(name: "ImageTests", dependencies: [], path: "Tests/ImageTests"),
    ],
    swiftLanguageModes: [.v5]
)
