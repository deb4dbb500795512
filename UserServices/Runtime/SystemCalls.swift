import KernelABI

/// Typed wrappers for every hypercall (ABI.md). The message of `call`/`reply` travels in the UTCB: use `UTCB`.
public struct SystemCalls<P: UserPlatform> {
    public let platform: P

    public init(_ platform: P) { self.platform = platform }

    @discardableResult
    func invoke(_ call: Hypercall, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
                _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> (status: Status, out0: UInt64, out1: UInt64) {
        let r = platform.hypercall(call.rawValue, a0, a1, a2, a3, a4, a5)
        // Status(rawValue:) is an out-of-line call into KernelABI; success, the IPC path's result, needs no lookup.
        let status = r.rax == Status.success.rawValue ? .success : Status(rawValue: r.rax) ?? .badHypercall
        return (status, r.rdi, r.rsi)
    }

    public var utcb: UTCB<P> { UTCB(platform: platform, base: platform.utcbAddress) }

    public func call(portal: UInt64) -> Status { invoke(.call, portal).status }
    public func reply() -> Status { invoke(.reply).status }
    public func createPD(_ dst: UInt64, quotaPages: UInt64, permissionsForCreator: UInt64 = Permissions.all) -> Status {
        invoke(.createPD, dst, quotaPages, permissionsForCreator).status
    }
    /// A VM PD (needs the caller's own `pdVM` right): its memory space is guest-physical.
    public func createVM(_ dst: UInt64, quotaPages: UInt64, permissionsForCreator: UInt64 = Permissions.all) -> Status {
        invoke(.createPD, dst, quotaPages, permissionsForCreator, PDFlags.vm).status
    }
    /// A vCPU of VM PD `vm`; its exit `n` calls the caller's portal at `eventBase + n`.
    public func createVCPU(_ dst: UInt64, vm: UInt64, eventBase: UInt64) -> Status {
        invoke(.createEC, dst, vm, 0, 0, 0, ECFlags.global | ECFlags.vcpu | eventBase << 8).status
    }
    public func createEC(_ dst: UInt64, pd: UInt64, utcb: UInt64, stackPointer: UInt64, entry: UInt64,
                         global: Bool, eventBase: UInt64) -> Status {
        invoke(.createEC, dst, pd, utcb, stackPointer, entry, ECFlags.make(global: global, eventBase: eventBase)).status
    }
    public func createSC(_ dst: UInt64, ec: UInt64, priority: UInt64, budget: UInt64) -> Status {
        invoke(.createSC, dst, ec, priority, budget).status
    }
    /// `mtd`: for vCPU exit portals, the state groups the kernel transfers (`TransferDescriptor`).
    public func createPT(_ dst: UInt64, ec: UInt64, entry: UInt64, portalID: UInt64, mtd: UInt64 = 0) -> Status {
        invoke(.createPT, dst, ec, entry, portalID, mtd).status
    }
    public func createSM(_ dst: UInt64, count: UInt64) -> Status { invoke(.createSM, dst, count).status }
    /// Puts `source` (a subset of the caller's rights) into `pd` at `destinationBase`.
    public func delegate(pd: UInt64, source: CapabilityRange, destinationBase: UInt64) -> Status {
        invoke(.delegate, pd, source.word, destinationBase).status
    }
    public func recall(ec: UInt64) -> Status { invoke(.ctrlEC, ec, 0).status }
    /// Consumed time of a scheduling context, in ticks.
    public func consumedTime(sc: UInt64) -> (status: Status, ticks: UInt64) {
        let r = invoke(.ctrlSC, sc, 0)
        return (r.status, r.out0)
    }
    public func setPortalID(pt: UInt64, id: UInt64) -> Status { invoke(.ctrlPT, pt, id).status }
    public func up(sm: UInt64) -> Status { invoke(.ctrlSM, sm, SemaphoreOp.up.rawValue).status }
    public func down(sm: UInt64) -> Status { invoke(.ctrlSM, sm, SemaphoreOp.down.rawValue).status }
    public func down(sm: UInt64, deadline: UInt64) -> Status {
        invoke(.ctrlSM, sm, SemaphoreOp.downTimed.rawValue, deadline).status
    }
    public func revoke(_ range: CapabilityRange, includeSelf: Bool) -> Status {
        invoke(.revoke, range.word, includeSelf ? RevokeFlags.includeSelf : 0).status
    }
    /// What the caller holds at the first capability of `range` (a CRD word, kind null when empty).
    public func lookup(_ range: CapabilityRange) -> (status: Status, found: CapabilityRange?) {
        let r = invoke(.lookup, range.word)
        return (r.status, CapabilityRange(word: r.out0))
    }
    public func assignInterrupt(sm: UInt64, irq: UInt64) -> Status { invoke(.assignInt, sm, irq).status }
    /// Assigns message interrupt number `number` (`RootSelectors.isMessage`) to its semaphore `sm` for PCI device
    /// `requester` (bus << 8 | device << 3 | function: with interrupt remapping only that device's messages raise
    /// it, and it must be the caller's device): the message (MSI address and data) the PCI driver writes into it.
    public func assignMessageInterrupt(sm: UInt64, number: UInt64,
                                       requester: UInt64) -> (status: Status, message: MessageInterrupt) {
        let r = invoke(.assignInt, sm, number, 0, requester)
        return (r.status, MessageInterrupt(address: r.out0, data: r.out1))
    }
    /// Releases `irq` (masked, pending interrupts dropped, waiters aborted) so it can be assigned again.
    public func releaseInterrupt(sm: UInt64, irq: UInt64) -> Status {
        invoke(.assignInt, sm, irq, AssignFlags.release).status
    }

    /// Root only: PCI device `requester` (bus << 8 | device << 3 | function) does its DMA through `pd`'s memory.
    public func assignDevice(pd: UInt64, requester: UInt64) -> Status { invoke(.assignDev, pd, requester).status }
    /// Root only: device memory pages `firstPage ..< firstPage + 2^order` become the root's (uncached), at
    /// `AddressLayout.physicalWindow + firstPage * 4096`.
    public func claimDeviceMemory(firstPage: UInt64, order: UInt64) -> Status {
        invoke(.claimDeviceMemory, firstPage, order).status
    }
    public func releaseDevice(pd: UInt64, requester: UInt64) -> Status {
        invoke(.assignDev, pd, requester, AssignFlags.release).status
    }

    /// Writes `text` to the kernel console through the UTCB (needs the PD console right).
    public func print(_ text: StaticString) {
        text.withUTF8Buffer { print(bytes: $0) }
    }
    public func print(bytes: UnsafeBufferPointer<UInt8>) {
        let utcb = self.utcb
        var offset = 0
        let chunk = UTCBLayout.maxDataWords * 8
        while offset < bytes.count {
            let n = min(chunk, bytes.count - offset)
            for i in 0..<n { utcb.storeDataByte(i, bytes[offset + i]) }
            invoke(.consoleWrite, UInt64(n))
            offset += n
        }
    }
}
