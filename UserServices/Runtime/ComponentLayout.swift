import KernelABI

/// Where the root task puts things in every component's address space, and which selectors it fills in the
/// component's capability space. Components find everything else through their start-info page
/// (`ComponentStartInfo`), whose address they also receive in `rdi`.
public enum ComponentLayout {
    /// ELF images are linked at `AddressLayout.imageBase`; their segments must end below this address.
    public static let imageLimit: UInt64 = 0x0000_0100_0000_0000
    /// Memory beyond the image and stack (for handler stacks, buffers, a heap): `heapBase ..< heapBase + size`.
    public static let heapBase: UInt64 = 0x0000_6000_0000_0000
    /// A VMM's VMs: VM `i`'s guest RAM at `guestRAM + i * guestRAMStride` (guest-physical 0 there), its guest image,
    /// initrd and disk modules (read-only) each in a window of `guestImageStride` bytes (`guestModuleWindow`).
    public static let guestRAM: UInt64 = 0x0000_2000_0000_0000
    public static let guestRAMStride: UInt64 = 1 << 38
    public static let guestImage: UInt64 = 0x0000_3000_0000_0000
    public static let guestImageStride: UInt64 = 1 << 32

    /// The modules a VM may have, each with its own window.
    public enum GuestModule: UInt64, Sendable {
        case image = 0, initrd = 1, disk = 2
    }
    /// The window of VM `vm`'s `module`: the module lies in it at its offset within a 4 GiB-aligned block.
    public static func guestModuleWindow(vm: Int, _ module: GuestModule) -> UInt64 {
        guestImage + (UInt64(vm) * 3 + module.rawValue) * guestImageStride
    }
    /// The start-info page (read-only).
    public static let startInfo: UInt64 = 0x0000_7000_0000_0000
    /// The main EC's UTCB (the kernel provides the page when the root task creates the EC).
    public static let utcb: UInt64 = 0x0000_7000_0000_1000
    /// The main EC's stack: `stackPages` pages ending at `stackTop`.
    public static let stackTop: UInt64 = 0x0000_7000_0010_0000
    public static let stackPages: UInt64 = 8
    /// Free for UTCBs of ECs the component creates itself (one page each, no memory may be mapped there).
    public static let firstFreeUTCB: UInt64 = 0x0000_7000_0020_0000
}

/// Selectors the root task fills in every component's capability space.
public enum ComponentSelectors {
    /// The component's own PD (permission `pdCreate` only: it may create ECs, portals and semaphores in itself).
    public static let ownPD: UInt64 = 1
    /// The root task's registration portal for services this component provides (empty when it provides none).
    public static let registration: UInt64 = 8
    /// Event portals: `eventBase + event` (`KernelABI.Event`), all pointing at the root task's fault handler.
    public static let eventBase: UInt64 = 32
    /// Portals of used services, in the order of the start-info service list.
    public static let firstService: UInt64 = 96
    /// Interrupt semaphores, in the order of the start-info interrupt list.
    public static let firstInterrupt: UInt64 = 160
    /// First selector the component may use freely.
    public static let firstFree: UInt64 = 256
}
