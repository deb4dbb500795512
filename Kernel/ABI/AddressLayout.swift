/// Where things live in every address space. The kernel owns the low 512 GiB (PML4 slot 0, supervisor only, where it
/// identity-maps physical memory); user space is everything above, up to the canonical hole.
public enum AddressLayout {
    public static let pageSize: UInt64 = 4096
    public static let pageShift: UInt64 = 12

    /// First user virtual address (PML4 slot 1).
    public static let userBase: UInt64 = 0x0000_0080_0000_0000
    /// One past the last user virtual address.
    public static let userEnd: UInt64 = 0x0000_8000_0000_0000

    /// Where component ELF images are linked.
    public static let imageBase: UInt64 = 0x0000_0080_0000_0000
    /// The root task sees all physical memory it was given at `physicalWindow + physical address`.
    public static let physicalWindow: UInt64 = 0x0000_4000_0000_0000
    /// Physical addresses at and above this are given to nobody: the root's window and the components' device
    /// windows show physical memory below it (16 TiB, 44 bits).
    public static let physicalLimit: UInt64 = 0x0000_1000_0000_0000
    /// The root task's boot information page (`BootFormat.RootBootInfo`).
    public static let rootBootInfo: UInt64 = 0x0000_7f00_0000_0000
    /// The root EC's UTCB.
    public static let rootUTCB: UInt64 = 0x0000_7f00_0000_1000
    /// The root EC's stack: `rootStackPages` pages ending at `rootStackTop`.
    public static let rootStackTop: UInt64 = 0x0000_7f00_0010_0000
    public static let rootStackPages: UInt64 = 16

    public static func isUser(_ address: UInt64) -> Bool { address >= userBase && address < userEnd }
    public static func isUserRange(_ address: UInt64, length: UInt64) -> Bool {
        isUser(address) && length <= userEnd - address
    }
}

/// Selectors the kernel fills in the root PD's capability space at boot.
public enum RootSelectors {
    public static let ownPD: UInt64 = 1
    public static let ownEC: UInt64 = 2
    public static let ownSC: UInt64 = 3
    /// Interrupt semaphores: `interruptBase + n` for interrupt number n in 0..<interruptCount: first the lines
    /// (IOAPIC pins, irq 0..<lineCount), then the message-signalled interrupts (MSI/MSI-X vectors, interrupt
    /// numbers lineCount..<interruptCount), as NOVA numbers its GSIs.
    public static let interruptBase: UInt64 = 64
    public static let lineCount: UInt64 = 24
    public static let messageCount: UInt64 = 32
    public static let interruptCount: UInt64 = lineCount + messageCount
    /// Whether interrupt number `n` is a message-signalled one (its semaphore's assignment returns the message).
    public static func isMessage(_ n: UInt64) -> Bool { n >= lineCount && n < interruptCount }
    /// Event (exception) portals of the root EC are looked up at `rootEventBase + vector`.
    public static let rootEventBase: UInt64 = 128
    /// First selector the root task may use freely.
    public static let firstFree: UInt64 = 256
}
