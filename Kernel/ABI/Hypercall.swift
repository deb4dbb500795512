/// Hypercall numbers. On x86-64 the number goes in `rax` and the arguments in `rdi, rsi, rdx, r10, r8, r9`
/// (`rcx` and `r11` are clobbered by `syscall`). The kernel returns a `Status` in `rax` and results in `rdi, rsi`.
/// The meaning of every argument is in ABI.md beside this file.
public enum Hypercall: UInt64, CaseIterable, Sendable {
    /// call(pt): send the UTCB message to a portal and block until the handler replies.
    case call = 0
    /// reply(): answer the call that is running on this EC; the EC then waits for the next call.
    case reply = 1
    /// create_pd(dst, quota_pages, flags)
    case createPD = 2
    /// create_ec(dst, pd, utcb_vaddr, stack_ptr, entry_ip, flags_and_event_base)
    case createEC = 3
    /// create_sc(dst, ec, priority, budget_ticks)
    case createSC = 4
    /// create_pt(dst, ec, entry_ip, portal_id)
    case createPT = 5
    /// create_sm(dst, initial_count)
    case createSM = 6
    /// delegate(pd, src_crd, dst_base): put a subset of the caller's rights into another PD it holds a cap for.
    case delegate = 7
    /// ctrl_ec(ec, op): recall (force an exit into the EC's recall portal).
    case ctrlEC = 8
    /// ctrl_sc(sc, op): read consumed time.
    case ctrlSC = 9
    /// ctrl_pt(pt, portal_id): set the id the handler sees.
    case ctrlPT = 10
    /// ctrl_sm(sm, op, deadline): up, down, or down with a timeout.
    case ctrlSM = 11
    /// revoke(crd, flags): remove everything derived from the range, and with `self` the range itself.
    case revoke = 12
    /// lookup(crd): what the caller holds at a selector/page/port.
    case lookup = 13
    /// assign_int(sm, irq, flags): route a device interrupt to a semaphore the caller holds, or release it.
    case assignInt = 14
    /// console_write(len): write `len` bytes from the UTCB data area to the kernel console (needs the PD console right).
    case consoleWrite = 15
    /// assign_dev(pd, requester, flags): root only; DMA of PCI device `requester` (bus:dev.fn) goes through `pd`'s
    /// DMA table, which mirrors `pd`'s memory (flag `AssignFlags.release`: the device is unbound, its DMA blocked).
    case assignDev = 16
    /// claim_mmio(first_page, order): root only; device memory (MMIO) pages become the root's, mapped uncached in
    /// its physical window (`RootBootInfo.deviceMemory` says which pages are device memory).
    case claimDeviceMemory = 17
}
