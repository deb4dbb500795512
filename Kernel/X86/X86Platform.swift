import BootFormat
import Kernel
import KernelABI
import X86Shims

/// The bare-metal `Platform`: physical memory through the kernel's identity map (PML4 slot 0), user mode through
/// the trap/syscall stubs in traps.S, time from the TSC, interrupts through the IOAPIC (lines), the LAPIC (MSI) and
/// the LAPIC timer.
///
/// Tick unit: one TSC cycle (`now` is `rdtsc`); `ticksPerMillisecond` is measured against the PIT at boot.
final class X86Platform: Platform {
    /// The pending timer deadline (ticks); the LAPIC may fire early when the deadline is far, then it is re-armed.
    private var deadline: UInt64?
    /// When the LAPIC one-shot is armed to fire (ticks), nil when it is not armed.
    private var armedFor: UInt64?
    /// Device lines the kernel has unmasked; `endOfInterrupt` re-opens only these.
    private var enabledInterrupts: UInt32 = 0
    /// Where each kernel irq is on the IOAPIC (pin, trigger, polarity): set once at boot from the ACPI MADT.
    private var routing = InterruptRouting.standard
    /// The PD I/O bitmap currently in the TSS, so unchanged permissions are not copied again on every entry.
    private var installedPorts: IOPermissionBitmap?
    /// FXSAVE image of a fresh EC (64 words): x87 control word 0x37f (all exceptions masked), MXCSR 0x1f80,
    /// registers zero. An EC's first entry copies it; from then on the EC's image is its own.
    private let initialFloatingPoint: [UInt64]
    let supportsGigabytePages = x86_has_gigabyte_pages() != 0

    init() {
        precondition(UserContext.hasStubLayout, "kernel bug: UserContext's register words are not in traps.S order")
        var image = [UInt64](repeating: 0, count: 64)
        image[0] = 0x037f
        image[3] = 0x1f80
        initialFloatingPoint = image
    }

    var ticksPerMillisecond: UInt64 { x86_tsc_per_millisecond() }

    // MARK: physical memory (identity mapped)

    func readPhysical(_ address: UInt64) -> UInt64 { pointer(address).pointee }
    func writePhysical(_ address: UInt64, _ value: UInt64) { pointer(address).pointee = value }
    func zeroPage(_ address: UInt64) { pointer(address).update(repeating: 0, count: 512) }
    func copyPage(from source: UInt64, to destination: UInt64) {
        pointer(destination).update(from: pointer(source), count: 512)
    }

    /// Physical memory is identity-mapped; the kernel only passes frames it owns (never 0), so no nil check.
    @inline(__always)
    private func pointer(_ address: UInt64) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)).unsafelyUnwrapped
    }

    func readPhysicalWords(_ address: UInt64, into words: UnsafeMutableBufferPointer<UInt64>) {
        guard let destination = words.baseAddress else { return }
        UnsafeMutableRawPointer(destination).copyMemory(from: pointer(address), byteCount: words.count &* 8)
    }

    func writePhysicalWords(_ address: UInt64, from words: UnsafeBufferPointer<UInt64>) {
        guard let source = words.baseAddress else { return }
        UnsafeMutableRawPointer(pointer(address)).copyMemory(from: source, byteCount: words.count &* 8)
    }

    // MARK: address spaces

    @_optimize(speed)
    func activateAddressSpace(root: UInt64) {
        guard x86_read_cr3() != root else { return }
        // Every PD shares the kernel's slot 0 (paging.c's map, with the stack guard and uncached MMIO). Installing it
        // when switching to a PML4 covers any PML4: only the kernel writes slot 0, and only into a PML4 it is about
        // to hand to a new PD (never the active one: Kernel.releaseAddressSpace leaves a dying PD's tables first).
        writePhysical(root, readPhysical(x86_kernel_pml4()))
        x86_write_cr3(root)
    }

    // MARK: virtual machines: AMD SVM (X86GuestPlatform.swift, VMCB.swift) or Intel VMX (X86VMXPlatform.swift,
    // VMCS.swift), chosen at boot (X86GuestVendor.swift)

    /// ASIDs the CPU offers (ASID 0 is the host's), 0 without SVM and nested paging (then VM PDs are refused).
    let guestASIDs = UInt64(x86_svm_asid_count())
    /// Whether the next VMRUN must flush every guest translation (a revoke or a recycled ASID asked for it; single
    /// CPU: no guest runs before that VMRUN, so the flush is done before anything could use a stale translation).
    var guestFlushPending = true
    /// Which ports this CPU's SVM I/O permission map or VMX I/O bitmaps hold (`VirtualCPU.ioPermissionsStamp`; 0:
    /// none, as svm.c and vmx.c leave them at boot), so unchanged ports cost one compare.
    private var installedGuestPortsStamp: UInt64 = 0
    /// Host NMIs that arrived while a guest ran (an SVM or VMX NMI exit), and the count last reported
    /// (`reportHostNMIs`).
    var guestNMIExits: UInt64 = 0
    private var reportedNMIs: UInt64 = 0
    /// Rewrites this CPU's guest I/O permission map (SVM's map or VMX's bitmaps, through `set`) when `vcpu`'s ports
    /// are not the ones it holds.
    @inline(__always)
    func installGuestPorts(of vcpu: VirtualCPU, _ set: (UnsafePointer<UInt64>?) -> Void) {
        guard vcpu.ioPermissionsStamp != installedGuestPortsStamp else { return }
        installedGuestPortsStamp = vcpu.ioPermissionsStamp
        if let ports = vcpu.ioPermissions {
            ports.allowedWords.withUnsafeBufferPointer { set($0.baseAddress) }
        } else {
            set(nil)
        }
    }
    /// Which hardware virtualization the CPU has, found at boot (x86_setup probed SVM, then VMX).
    let guestVendor = GuestVendor.probe()

    func flushTranslations(root: UInt64, page: UInt64?) {
        // Without PCIDs only the active address space has cached translations; the others are flushed by CR3 loads.
        guard x86_read_cr3() == root else { return }
        if let page { x86_invalidate_page(page) } else { x86_write_cr3(root) }
    }

    // MARK: user execution

    @_optimize(speed)
    func enterUser(_ context: inout UserContext, ioPermissions: IOPermissionBitmap?) -> Exit {
        installPorts(ioPermissions)
        // iretq to a non-canonical address would fault in ring 0; report it as the #GP the user caused.
        guard isCanonical(context.rip), isCanonical(context.rsp) else {
            return .exception(vector: Event.generalProtection, errorCode: 0, faultAddress: 0)
        }
        if context.floatingPoint.count != initialFloatingPoint.count {
            context.floatingPoint = initialFloatingPoint
        }
        // The kernel activated context.addressSpaceRoot just before (Kernel.runOnce). The stubs load and store the
        // registers and the x87/SSE image in the EC's own UserContext (no copies).
        return withUnsafeMutablePointer(to: &context) { registers in
            registers.pointee.floatingPoint.withUnsafeMutableBufferPointer { image in
                let state = image.baseAddress!
                precondition(UInt(bitPattern: state) % 16 == 0, "kernel bug: FXSAVE image not 16-byte aligned")
                return run(UnsafeMutableRawPointer(registers), floatingPoint: state)
            }
        }
    }

    /// Runs ring 3 from `registers` until an exit the kernel must see (early timer ticks and stray vectors resume it).
    @_optimize(speed)
    private func run(_ registers: UnsafeMutableRawPointer, floatingPoint: UnsafeMutablePointer<UInt64>) -> Exit {
        while true {
            let kind = x86_enter_user(registers, floatingPoint)
            if kind == UInt64(X86_EXIT_SYSCALL) { return .hypercall }
            let vector = x86_trap_vector()
            if vector < 32 {
                let address = vector == Event.pageFault ? x86_trap_cr2() : 0
                return .exception(vector: vector, errorCode: x86_trap_error(), faultAddress: address)
            }
            if let exit = interrupt(vector: vector) { return exit }
        }
    }

    func idle() -> Exit {
        reportHostNMIs()
        while true {
            if let exit = interrupt(vector: x86_idle()) { return exit }
        }
    }

    private func isCanonical(_ address: UInt64) -> Bool {
        address < 0x0000_8000_0000_0000 || address >= 0xffff_8000_0000_0000
    }

    @_optimize(speed)
    private func installPorts(_ ports: IOPermissionBitmap?) {
        if ports == nil && installedPorts == nil { return }  // the common case, without comparing bitmaps
        guard ports != installedPorts else { return }
        installedPorts = ports
        if let ports {
            ports.allowedWords.withUnsafeBufferPointer { x86_set_io_permissions($0.baseAddress) }
        } else {
            x86_set_io_permissions(nil)
        }
    }

    /// Turns an interrupt vector into an exit; nil when there is nothing to report (timer fired before the
    /// deadline and was re-armed, or a vector no device uses).
    func interrupt(vector: UInt64) -> Exit? {
        let irqBase = UInt64(X86_IRQ_VECTOR_BASE)
        if vector >= irqBase && vector < irqBase + UInt64(X86_IRQ_COUNT) {
            // Mask the line until the kernel's endOfInterrupt, so a level-triggered device cannot storm; the LAPIC
            // is acknowledged at once so other interrupts keep coming.
            let irq = vector - irqBase
            if let pin = pin(irq) { x86_ioapic_mask(pin, 1) }
            x86_lapic_eoi()
            return .interrupt(irq: irq)
        }
        let messageBase = UInt64(X86_MSI_VECTOR_BASE)
        if vector >= messageBase && vector < messageBase + UInt64(X86_MSI_COUNT) {
            // An edge from a device's MSI write: nothing to mask, the LAPIC is acknowledged at once.
            x86_lapic_eoi()
            return .interrupt(irq: RootSelectors.lineCount + vector - messageBase)
        }
        if vector == UInt64(X86_VTD_FAULT_VECTOR) {
            reportDMAFaults()
            x86_lapic_eoi()
            return nil
        }
        if vector == UInt64(X86_TIMER_VECTOR) {
            x86_lapic_eoi()
            armedFor = nil
            guard let due = deadline else { return nil }
            let current = now
            if current >= due {
                deadline = nil
                return .timer
            }
            arm(due, now: current)
            return nil
        }
        if vector != UInt64(X86_SPURIOUS_VECTOR) && vector < UInt64(X86_PIC_VECTOR_BASE) { x86_lapic_eoi() }
        return nil
    }

    /// Reports host NMIs counted since the last report. traps.S only counts them (an NMI may arrive in the middle of
    /// a console line or a stub); the line is written when nothing runs (idle, or the kernel stopping), so it never
    /// lands inside a line a driver is writing to the same UART.
    func reportHostNMIs() {
        let count = x86_host_nmis()
        guard count != reportedNMIs else { return }
        reportedNMIs = count
        print("kernel: host NMI: \(count) so far, \(guestNMIExits) while a guest ran (counted, nothing else uses them)")
    }

    // MARK: time

    var now: UInt64 { x86_tsc() }

    @_optimize(speed)
    func setTimer(deadline: UInt64?) {
        self.deadline = deadline
        guard let deadline else {
            armedFor = nil
            return x86_timer_cancel()
        }
        let current = now
        // Already armed to fire no later than the new deadline: an early tick re-arms (interrupt(vector:)), so a
        // deadline that only moved later (the same SC going on after IPC) costs no LAPIC programming.
        if let armed = armedFor, armed > current, armed <= deadline { return }
        arm(deadline, now: current)
    }

    private func arm(_ due: UInt64, now current: UInt64) {
        x86_timer_arm(due > current ? due - current : 0)
        armedFor = due
    }

    // MARK: interrupts

    /// Programs every line's pin as `routing` says (vector 32 + irq, its trigger and polarity), all masked. Boot
    /// only, before the kernel exists (so before any line is unmasked).
    func route(_ routing: InterruptRouting) {
        self.routing = routing
        for irq in 0..<UInt64(X86_IRQ_COUNT) {
            guard let line = routing.lines[Int(irq)] else { continue }
            x86_ioapic_route(line.gsi, UInt32(X86_IRQ_VECTOR_BASE) + UInt32(irq), line.level ? 1 : 0, line.activeLow ? 1 : 0)
        }
    }

    /// The IOAPIC pin of `irq`, nil when the machine has none for it.
    private func pin(_ irq: UInt64) -> UInt32? {
        guard irq < UInt64(X86_IRQ_COUNT), Int(irq) < routing.lines.count else { return nil }
        return routing.lines[Int(irq)]?.gsi
    }

    func interruptTrigger(_ irq: UInt64) -> InterruptTrigger? {
        guard irq < UInt64(X86_IRQ_COUNT), Int(irq) < routing.lines.count, let line = routing.lines[Int(irq)] else {
            return nil
        }
        return line.level ? .level : .edge
    }

    func unmaskInterrupt(_ irq: UInt64) {
        guard let pin = pin(irq) else { return }
        enabledInterrupts |= 1 << UInt32(irq)
        x86_ioapic_mask(pin, 0)
    }

    func maskInterrupt(_ irq: UInt64) {
        guard let pin = pin(irq) else { return }
        enabledInterrupts &= ~(1 << UInt32(irq))
        x86_ioapic_mask(pin, 1)
    }

    func endOfInterrupt(_ irq: UInt64) {
        guard let pin = pin(irq), enabledInterrupts & (1 << UInt32(irq)) != 0 else { return }
        x86_ioapic_mask(pin, 0)
    }

    /// MSI n is vector 80 + n on this CPU (x86.h). Without interrupt remapping the message is the plain
    /// compatibility format, so a device can be made to send any vector (the boot line says so); with it, the
    /// remappable message naming remapping entry 24 + n (handles are kernel interrupt numbers).
    func messageInterrupt(_ index: UInt64) -> MessageInterrupt? {
        guard index < UInt64(X86_MSI_COUNT), index < RootSelectors.messageCount else { return nil }
        if interruptRemapping { return .remappable(handle: UInt16(RootSelectors.lineCount + index)) }
        return .x86(vector: UInt64(X86_MSI_VECTOR_BASE) + index, apicID: UInt64(x86_lapic_id()))
    }

    // MARK: interrupt remapping (vtd.c's remapping table; entry n is kernel interrupt number n): every line's
    // entry is present for the IOAPIC's source ID, a message interrupt's only while it is assigned.

    private(set) var interruptRemapping = false

    /// Turns interrupt remapping on (after DMA remapping, before the kernel exists: every line is still masked) and
    /// moves every IOAPIC pin to remappable format; nil when on, else why not. `ioapics`: the DMAR's IOAPIC scopes.
    func enableInterruptRemapping(ioapics: [DMARTable.IOAPICScope]) -> String? {
        guard dmaRemapping else { return "DMA remapping is off" }
        let id = UInt8(x86_ioapic_id())
        guard let scope = ioapics.first(where: { $0.id == id }) else {
            return "the DMAR names no source ID for IOAPIC \(id)"
        }
        switch x86_vtd_enable_interrupt_remapping() {
        case Int32(X86_VTD_ON): break
        case Int32(X86_VTD_NO_INTERRUPT_REMAPPING): return "the unit does not offer it"
        case Int32(X86_VTD_NO_QUEUE): return "the unit has no invalidation queue"
        default: return "the unit did not complete a command"
        }
        let apicID = UInt8(x86_lapic_id())
        for irq in 0..<UInt64(X86_IRQ_COUNT) {
            guard let line = routing.lines[Int(irq)] else { continue }
            let vector = UInt8(UInt64(X86_IRQ_VECTOR_BASE) + irq)
            let entry = InterruptRemapEntry.remapped(vector: vector, apicID: apicID, level: line.level, source: scope.sourceID)
            setRemappingEntry(UInt32(irq), entry)
            x86_ioapic_write_entry(line.gsi, InterruptRemapEntry.ioapicRedirection(handle: UInt16(irq), vector: vector,
                                                                                 level: line.level, activeLow: line.activeLow))
        }
        interruptRemapping = true
        return nil
    }

    func remapMessageInterrupt(_ index: UInt64, requester: UInt64?) {
        guard interruptRemapping else { return } // the kernel asks only while it is on
        var entry = InterruptRemapEntry.notPresent
        if let requester {
            entry = .remapped(vector: UInt8(UInt64(X86_MSI_VECTOR_BASE) + index), apicID: UInt8(x86_lapic_id()),
                              level: false, source: UInt16(truncatingIfNeeded: requester))
        }
        setRemappingEntry(UInt32(RootSelectors.lineCount + index), entry)
    }

    func remappedRequester(ofMessage index: UInt64) -> UInt64? {
        guard interruptRemapping else { return nil }
        var low: UInt64 = 0, high: UInt64 = 0
        x86_vtd_remapping_entry(UInt32(RootSelectors.lineCount + index), &low, &high)
        return InterruptRemapEntry(low: low, high: high).source.map { UInt64($0) }
    }

    private func setRemappingEntry(_ handle: UInt32, _ entry: InterruptRemapEntry) {
        if x86_vtd_set_remapping_entry(handle, entry.low, entry.high) == 0 {
            iommuStopped("an interrupt entry cache invalidation")
        }
    }

    // MARK: DMA remapping: one VT-d unit (vtd.c), turned on at boot when the DMAR names exactly one
    // (DMAConfinement.swift); every device is blocked until the kernel binds it.

    private(set) var dmaRemapping = false
    /// The domain ID of each DMA table a device is bound to (VT-d tags IOTLB entries with it, so two tables never
    /// share one), which table each device is bound to, and the IDs free again. ID 0 is never used (reserved on
    /// caching-mode units).
    private var domains: [UInt64: UInt32] = [:]
    private var boundTables: [UInt64: UInt64] = [:]
    private var freeDomains: [UInt32] = []
    private var nextDomain: UInt32 = 1
    private var domainLimit: UInt32 = 0

    /// Turns DMA translation on; nil when it is on, else why not.
    func enableDMARemapping(registerBase: UInt64) -> String? {
        var count: UInt32 = 0
        switch x86_vtd_enable(registerBase, UInt32(X86_VTD_FAULT_VECTOR), x86_lapic_id(), &count) {
        case Int32(X86_VTD_ON):
            domainLimit = count
            dmaRemapping = true
            return nil
        case Int32(X86_VTD_NO_4_LEVEL): return "the unit has no 4-level (48-bit) second-level tables"
        case Int32(X86_VTD_ALREADY_ON): return "the firmware left translation on"
        default: return "the unit did not complete a command"
        }
    }

    func bindDevice(_ requester: UInt64, root: UInt64?) -> Bool {
        var domain: UInt32 = 0
        if let root {
            if let known = domains[root] {
                domain = known
            } else if let reused = freeDomains.popLast() {
                domain = reused
            } else if nextDomain < domainLimit {
                domain = nextDomain
                nextDomain += 1
            } else {
                return false
            }
            domains[root] = domain
        }
        // Writes the context entry, then invalidates the context cache and the whole IOTLB.
        if x86_vtd_bind(UInt32(requester), root ?? 0, domain) == 0 { iommuStopped("a context invalidation") }
        let previous = boundTables[requester]
        boundTables[requester] = root
        if let previous, previous != root, !boundTables.values.contains(previous), let id = domains[previous] {
            domains[previous] = nil
            freeDomains.append(id) // nothing of it is cached: the IOTLB was just invalidated
        }
        return true
    }

    func flushDeviceTranslations(root: UInt64) {
        guard let domain = domains[root] else { return } // no device uses the table: nothing can be cached
        if x86_vtd_flush(domain) == 0 { iommuStopped("an IOTLB invalidation") }
    }

    /// The IOMMU never completed an invalidation: a device could still reach memory its PD no longer holds, so
    /// nothing may run on. Hardware failure, not a kernel bug: said and stopped like a boot error.
    private func iommuStopped(_ what: String) -> Never {
        print("kernel: error: the IOMMU did not complete \(what); stopping, DMA isolation is no longer certain")
        print("kernel: halted")
        x86_exit_emulator(UInt32(X86_EXIT_BOOT_ERROR))
    }

    /// The fault event interrupt: every recorded fault (DMA or interrupt remapping) as a kernel line naming the
    /// device, the address or handle, and the reason (`VTdFault`).
    private func reportDMAFaults() {
        var low: UInt64 = 0, high: UInt64 = 0
        while x86_vtd_take_fault(&low, &high) != 0 {
            print(VTdFault(recordLow: low, high: high).description)
        }
    }

    // MARK: console

    func consoleWrite(_ byte: UInt8) { x86_serial_write(byte) }
}
