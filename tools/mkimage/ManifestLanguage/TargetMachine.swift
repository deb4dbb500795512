import ManifestFormat

/// A static description of the machine an image is built for: where its RAM is, where the kernel is linked,
/// and the device memory, I/O ports and interrupt lines the kernel or the platform keep. The manifest
/// checker refuses grants that collide with them; the root task's check at boot stays the authority for what
/// only the real machine knows (its firmware's memory map).
public struct TargetMachine: Sendable {
    /// A half-open range `[start, end)` of addresses, ports or interrupt lines, named for messages.
    public struct Region: Equatable, Sendable {
        public var name: String
        public var start: UInt64
        public var end: UInt64

        public init(_ name: String, start: UInt64, size: UInt64) {
            self.name = name
            self.start = start
            self.end = start + size
        }

        public func overlaps(start: UInt64, end: UInt64) -> Bool { self.start < end && start < self.end }
    }

    public var name: String
    /// Installed RAM in bytes (what `-m` gives the virtual machine).
    public var memory: UInt64
    public var ram: [Region]
    /// Where the kernel image is linked (physical), with room for its sections.
    public var kernelImage: Region
    /// Device memory the kernel or firmware use (interrupt controllers, timers, PCI configuration, flash).
    public var reservedMMIO: [Region]
    public var reservedPorts: [Region]
    /// Configuration mechanism 1's ports: a PCI bus driver's (or a device test's), never a VMM's (PlatformPolicy).
    public var pciConfigurationPorts: Region?
    public var reservedInterrupts: [Region]
    /// Memory the root task itself needs beyond its kernel quota: image, stacks, mailbox, page tables.
    public var rootTaskBytes: UInt64

    /// The kernel's heap: a quarter of free RAM, at most 32 MiB (Kernel/X86/kernel_heap.c).
    public func kernelHeapBytes(freeRAM: UInt64) -> UInt64 { min(freeRAM / 4, 32 << 20) & ~0xfff }

    /// RAM above the legacy first MiB (the kernel and the root task only use memory there).
    public var usableRAM: UInt64 {
        ram.reduce(0) { total, r in total + (r.end > 1 << 20 ? r.end - max(r.start, 1 << 20) : 0) }
    }

    /// QEMU's q35 machine with OVMF, as `tools/run` starts it (`-machine q35 -m <memory>`).
    public static func q35OVMF(memory: UInt64) -> TargetMachine {
        // QEMU (hw/i386/pc_q35.c): RAM below 4 GiB ends at 2.75 GiB, or at 2 GiB when there is at least
        // 2.75 GiB; the rest is mapped from 4 GiB up. 640K..1M is the legacy VGA/BIOS hole.
        let lowLimit: UInt64 = memory >= 0xb000_0000 ? 0x8000_0000 : 0xb000_0000
        let below = min(memory, lowLimit)
        var ram = [Region("RAM below 640K", start: 0, size: min(below, 0xa_0000))]
        if below > 0x10_0000 { ram.append(Region("RAM below 4 GiB", start: 0x10_0000, size: below - 0x10_0000)) }
        if memory > below { ram.append(Region("RAM above 4 GiB", start: 1 << 32, size: memory - below)) }
        return TargetMachine(
            name: "q35 + OVMF", memory: memory, ram: ram,
            // Kernel/X86/linker.ld links the kernel at 64 MiB; 8 MiB holds its text, data and page tables.
            kernelImage: Region("the kernel image", start: 64 << 20, size: 8 << 20),
            reservedMMIO: [
                Region("the PCI Express configuration space (ECAM)", start: 0xb000_0000, size: 256 << 20),
                Region("the I/O APIC", start: 0xfec0_0000, size: 4 << 10),
                Region("the HPET", start: 0xfed0_0000, size: 4 << 10),
                Region("the local APIC", start: 0xfee0_0000, size: 1 << 20),
                Region("the firmware flash (OVMF)", start: 0xffc0_0000, size: 4 << 20),
            ],
            reservedPorts: [
                Region("the legacy PIC", start: 0x20, size: 2),
                Region("the PIT", start: 0x40, size: 4),
                Region("the keyboard controller and system control port (PIT gate)", start: 0x60, size: 5),
                Region("the legacy PIC", start: 0xa0, size: 2),
                Region("QEMU's debug exit port (the kernel stops through it)", start: 0xf4, size: 4),
                Region("the PIC edge/level control", start: 0x4d0, size: 2),
            ],
            pciConfigurationPorts: Region("PCI configuration", start: 0xcf8, size: 8),
            reservedInterrupts: [
                Region("the PIT timer line", start: 0, size: 1),
                Region("the PIC cascade line", start: 2, size: 1),
            ],
            rootTaskBytes: 2 << 20)
    }

    /// The simulated machine (Sim/SimSystem): RAM from 0 to `memory`, a 16550 at 0x3f8 and the debug-exit port;
    /// the kernel is host code, so no RAM holds it, and no interrupt line is the platform's.
    public static func simulator(memory: UInt64) -> TargetMachine {
        TargetMachine(
            name: "the simulator", memory: memory, ram: [Region("simulated RAM", start: 0, size: memory)],
            kernelImage: Region("the kernel image (host code in the simulator)", start: 0, size: 0),
            reservedMMIO: [],
            reservedPorts: [Region("the debug exit port (the simulated kernel stops through it)", start: 0xf4, size: 4)],
            pciConfigurationPorts: nil,
            reservedInterrupts: [],
            rootTaskBytes: 2 << 20)
    }
}
