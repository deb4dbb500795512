import KernelABI

/// The narrow interface between the kernel's logic and a machine. Two implementations exist: the bare-metal x86-64
/// one (Kernel/X86, C/assembly shims underneath) and the simulator's (Sim/). The kernel is generic over it, so
/// Embedded Swift specialises the whole kernel for one platform and nothing is dispatched at run time.
///
/// The kernel is a loop: pick the current EC, `enterUser` it, handle the `Exit` that comes back. Both platforms run
/// the kernel with interrupts disabled; an interrupt that arrives while user code runs ends `enterUser`.
public protocol Platform: AnyObject {
    // MARK: physical memory (page tables, UTCBs, loading): addresses are physical, accesses are 8-byte aligned.
    func readPhysical(_ address: UInt64) -> UInt64
    func writePhysical(_ address: UInt64, _ value: UInt64)
    /// `words.count` consecutive words at physical `address` (8-aligned, within one frame), in bulk.
    func readPhysicalWords(_ address: UInt64, into words: UnsafeMutableBufferPointer<UInt64>)
    func writePhysicalWords(_ address: UInt64, from words: UnsafeBufferPointer<UInt64>)
    func zeroPage(_ address: UInt64)
    func copyPage(from source: UInt64, to destination: UInt64)

    // MARK: address spaces
    /// Makes the page table rooted at `root` (a PML4's physical address) the current one.
    func activateAddressSpace(root: UInt64)
    /// Drops stale translations for one page of the address space rooted at `root` (or all pages when `page` is nil).
    func flushTranslations(root: UInt64, page: UInt64?)
    /// Whether 1 GiB page-table leaves exist (CPUID 0x80000001 EDX bit 26 on x86); 2 MiB leaves always do.
    var supportsGigabytePages: Bool { get }

    // MARK: user execution
    /// Runs user code with `context` until it makes a hypercall, faults or is interrupted; the context is updated.
    /// `ioBitmap` is the set of ports the current PD may use (nil: none).
    func enterUser(_ context: inout UserContext, ioPermissions: IOPermissionBitmap?) -> Exit
    /// Waits with interrupts enabled until one arrives (nothing is runnable).
    func idle() -> Exit

    // MARK: virtual machines (VirtualCPU.swift, GuestState.swift; ABI.md "Virtual machines")
    /// How many tagged-TLB IDs (ASIDs / VPIDs, 1 ... count) guests may use; 0 when this machine cannot run guests.
    var guestTagCount: UInt64 { get }
    /// Pool frames the platform needs per vCPU for its hardware state (VMCB or VMCS, I/O and MSR permission maps).
    var guestStateFrames: UInt64 { get }
    /// How this machine's nested page tables encode their entries (a VM PD's page table is built in this format).
    var nestedPaging: NestedPagingFormat { get }
    /// Runs `vcpu`'s guest in its nested address space (`vcpu.nestedRoot`, tagged `vcpu.tag`, flushed first when
    /// `vcpu.flushTag`) until it exits (`.guest`, the exit in `vcpu.state`), an interrupt arrives or the timer
    /// fires. The kernel has checked `vcpu.state.entryProblem`; a state the hardware still refuses is exit
    /// `failedEntry`, never a kernel fault.
    func enterGuest(_ vcpu: VirtualCPU) -> Exit
    /// Copies the groups `groups` ∩ `vcpu.staleGroups` from the hardware state into `vcpu.state` and clears them
    /// from `staleGroups` (VirtualCPU's invariants).
    func fetchGuestState(_ vcpu: VirtualCPU, groups: UInt64)
    /// Copies the vCPU's general registers (15 words in `GuestState.registers` order) between its hardware state and
    /// physical memory at `address` (a handler's UTCB words), bypassing `vcpu.state`: `out` while the group is stale
    /// (the hardware holds the current values); in, after which the hardware holds them (the kernel marks the group
    /// stale). One copy instead of two on every exit that moves registers.
    func copyGuestRegisters(_ vcpu: VirtualCPU, out: Bool, physical address: UInt64)
    /// Drops every cached translation of guest tag `tag` (all tags when nil), before the caller goes on.
    func flushGuestTranslations(tag: UInt64?)
    /// Forgets whatever the platform keeps for a vCPU that is being destroyed (its frames go back to the pool next).
    func releaseGuest(_ vcpu: VirtualCPU)

    // MARK: time: one monotonic tick counter, and a one-shot timer
    var now: UInt64 { get }
    /// Raises the timer interrupt at `deadline` (ticks), replacing any earlier request; nil cancels.
    func setTimer(deadline: UInt64?)

    // MARK: interrupts: lines by kernel irq number (ISA 0..15, then the PCI lines); the platform routes each to its pin
    /// How `irq` signals, or nil when the machine has no such line (e.g. an ISA IRQ whose pin another IRQ's ACPI
    /// override took). The kernel keeps a level line closed after its interrupt until the owner waits again.
    func interruptTrigger(_ irq: UInt64) -> InterruptTrigger?
    func unmaskInterrupt(_ irq: UInt64)
    func maskInterrupt(_ irq: UInt64)
    /// Ends the interrupt taken on `irq`: the line can be delivered again (if it is unmasked).
    func endOfInterrupt(_ irq: UInt64)
    /// The message a device writes to raise message interrupt `index` (0 ..< `RootSelectors.messageCount`), nil
    /// when the machine has no such vector. Each index is one vector of its own; a message arrives as
    /// `Exit.interrupt(irq: RootSelectors.lineCount + index)`, already acknowledged (edge: nothing to mask).
    func messageInterrupt(_ index: UInt64) -> MessageInterrupt?
    /// Whether the IOMMU remaps message interrupts (VT-d interrupt remapping, compatibility-format messages
    /// blocked): then `messageInterrupt` is a remappable-format message, and it reaches its vector only while
    /// `remapMessageInterrupt` keeps its entry present, and only from the device that entry names.
    var interruptRemapping: Bool { get }
    /// Message interrupt `index`'s remapping entry admits messages from device `requester` (bus << 8 | device << 3
    /// | function) only, or none (nil: not present, its messages blocked and recorded as faults), with nothing
    /// cached from before when this returns. Only called while `interruptRemapping`.
    func remapMessageInterrupt(_ index: UInt64, requester: UInt64?)
    /// The requester message interrupt `index`'s remapping entry admits, read back from the table (nil: not
    /// present, or no remapping), for the invariant checker.
    func remappedRequester(ofMessage index: UInt64) -> UInt64?

    // MARK: DMA remapping (an IOMMU): PCI devices by requester ID (bus << 8 | device << 3 | function)
    /// Whether the kernel drives an IOMMU on this machine; without one devices cannot be bound and DMA is unconfined.
    var dmaRemapping: Bool { get }
    /// From now on device `requester`'s DMA goes through the table at `root` (`VTdEntry`, 4 levels, 48-bit device
    /// addresses), or is blocked (nil), with nothing cached from before. False (nothing changed) when the IOMMU
    /// cannot tag one more table (VT-d: no domain ID left); unbinding always succeeds.
    func bindDevice(_ requester: UInt64, root: UInt64?) -> Bool
    /// Drops every cached device translation of the DMA table at `root` before returning.
    func flushDeviceTranslations(root: UInt64)

    // MARK: console
    func consoleWrite(_ byte: UInt8)
}

/// The entry format of nested page tables: AMD's NPT walks x86-64 tables (`PageTableEntry`), Intel's EPT has its
/// own (`EPTEntry`). Both go through the same walker (PageTable.swift).
public enum NestedPagingFormat: Equatable, Sendable {
    case x86_64
    case ept
}

/// How a device interrupt line signals. An edge is one event per interrupt (latched by the controller); a level
/// stays asserted until the driver has serviced the device, so the line must stay closed until then.
public enum InterruptTrigger: Equatable, Sendable {
    case edge
    case level
}

/// Why `enterUser` or `idle` returned.
public enum Exit: Equatable, Sendable {
    /// `syscall`: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9.
    case hypercall
    /// A CPU exception in user mode: vector, error code, and for page faults the faulting address (CR2).
    case exception(vector: UInt64, errorCode: UInt64, faultAddress: UInt64)
    /// A device interrupt: its kernel interrupt number (not the vector): a line's irq, or
    /// `RootSelectors.lineCount + index` for message interrupt `index`.
    case interrupt(irq: UInt64)
    /// The timer deadline passed.
    case timer
    /// A vCPU left its guest with a VM exit; what happened is in its `GuestState` (exit reason, qualification).
    case guest
}
