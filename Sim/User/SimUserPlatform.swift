import Kernel
import KernelABI
import UserRuntime

/// The `UserPlatform` of one simulated EC. Every operation first lets virtual time pass (one tick) and takes a
/// pending timer or interrupt as a preemption; memory accesses walk the EC's page tables and stop the thread with
/// a page fault until the kernel resumes it (then the access is retried, like a re-executed instruction); port
/// accesses are checked against the PD's I/O permission bitmap (#GP without permission).
public final class SimUserPlatform: UserPlatform {
    let executor: SimUserExecutor
    let thread: SimUserThread
    /// The running EC's UTCB. The root EC's is fixed (`AddressLayout.rootUTCB`); other ECs' code sets it from its
    /// start information.
    public var utcbAddress: UInt64 = AddressLayout.rootUTCB
    /// Virtual time charged per operation.
    public static let ticksPerOperation: UInt64 = 1

    init(executor: SimUserExecutor, thread: SimUserThread) {
        self.executor = executor
        self.thread = thread
    }

    public var machine: SimMachine { executor.machine }

    /// The component's slot, kept by the executor per address space (all ECs of a PD share it; several simulated
    /// components in one process each have their own).
    public var componentState: AnyObject? {
        get { executor.componentStates[executor.root(of: thread.context)] }
        set { executor.componentStates[executor.root(of: thread.context)] = newValue }
    }
    public var programName: String { thread.program.name }

    /// The address of entry `index` of the running program (for portals and extra ECs).
    public func entryAddress(_ index: Int) -> UInt64 {
        thread.recordAddress - UInt64(thread.entryIndex) * SimCodeRecord.size + UInt64(index) * SimCodeRecord.size
    }

    // MARK: time

    /// One instruction boundary: time passes, and a due timer or interrupt preempts the EC here.
    private func step(_ ticks: UInt64 = SimUserPlatform.ticksPerOperation) {
        machine.advance(by: ticks)
        while let exit = machine.takePendingExit() { executor.suspend(thread, exit) }
    }

    /// Computes for `ticks` of virtual time (preemptible at every tick).
    public func compute(ticks: UInt64) {
        for _ in 0..<ticks { step() }
    }

    public func timestamp() -> UInt64 {
        step()
        return machine.now
    }

    // MARK: hypercalls

    public func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                          _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
        step()
        thread.context.rax = number
        thread.context.rdi = a0
        thread.context.rsi = a1
        thread.context.rdx = a2
        thread.context.r10 = a3
        thread.context.r8 = a4
        thread.context.r9 = a5
        // `syscall` puts the return address in rcx and the flags in r11.
        thread.context.rcx = thread.resumeAddress
        thread.context.r11 = thread.context.rflags
        executor.suspend(thread, .hypercall)
        return (thread.context.rax, thread.context.rdi, thread.context.rsi)
    }

    // MARK: memory

    /// Translates every byte of the access first (a fault leaves memory untouched), retrying after each fault.
    private func physical(_ address: UInt64, size: UInt64, access: SimAccess) -> [UInt64] {
        step()
        while true {
            var result: [UInt64] = []
            var fault: Exit?
            let root = executor.root(of: thread.context)
            // An aligned access stays in one page: one walk. Otherwise each byte separately.
            let pieces: [UInt64] = address % size == 0 ? [address] : (0..<size).map { address &+ $0 }
            for piece in pieces {
                switch executor.translate(root: root, address: piece, access: access) {
                case .success(let p): result.append(p)
                case .failure(let e): fault = e.exit
                }
                if fault != nil { break }
            }
            guard let exit = fault else { return result }
            executor.suspend(thread, exit)
        }
    }

    private func memoryFault(_ error: SimPhysicalMemoryError) {
        machine.reportKernelFault("user access reached memory beyond RAM: \(error)")
    }

    public func load64(_ address: UInt64) -> UInt64 {
        let p = physical(address, size: 8, access: .read)
        if p.count == 1 {
            do throws(SimPhysicalMemoryError) { return try machine.memory.read64(p[0]) } catch { memoryFault(error) }
            return 0
        }
        var value: UInt64 = 0
        for (i, byte) in p.enumerated() { value |= UInt64(readByte(byte)) << (8 * UInt64(i)) }
        return value
    }

    public func store64(_ address: UInt64, _ value: UInt64) {
        let p = physical(address, size: 8, access: .write)
        if p.count == 1 {
            do throws(SimPhysicalMemoryError) { try machine.memory.write64(p[0], value) } catch { memoryFault(error) }
            return
        }
        for (i, byte) in p.enumerated() { writeByte(byte, UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    public func load8(_ address: UInt64) -> UInt8 { readByte(physical(address, size: 1, access: .read)[0]) }

    public func store8(_ address: UInt64, _ value: UInt8) {
        writeByte(physical(address, size: 1, access: .write)[0], value)
    }

    public func load16(_ address: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: loadBytes(address, 2)) }
    public func store16(_ address: UInt64, _ value: UInt16) { storeBytes(address, 2, UInt64(value)) }
    public func load32(_ address: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: loadBytes(address, 4)) }
    public func store32(_ address: UInt64, _ value: UInt32) { storeBytes(address, 4, UInt64(value)) }

    /// A little-endian access of `size` bytes, translated (and checked) as one access.
    private func loadBytes(_ address: UInt64, _ size: UInt64) -> UInt64 {
        var value: UInt64 = 0
        for (i, byte) in physical(address, size: size, access: .read).enumerated() {
            value |= UInt64(readByte(byte)) << (8 * UInt64(i))
        }
        return value
    }

    private func storeBytes(_ address: UInt64, _ size: UInt64, _ value: UInt64) {
        for (i, byte) in physical(address, size: size, access: .write).enumerated() {
            writeByte(byte, UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
        }
    }

    private func readByte(_ physical: UInt64) -> UInt8 {
        do throws(SimPhysicalMemoryError) { return try machine.memory.read8(physical) } catch { memoryFault(error) }
        return 0
    }

    private func writeByte(_ physical: UInt64, _ value: UInt8) {
        do throws(SimPhysicalMemoryError) { try machine.memory.write8(physical, value) } catch { memoryFault(error) }
    }

    // MARK: I/O ports

    private func checkPort(_ port: UInt16, count: UInt16 = 1) {
        step()
        while !(0..<count).allSatisfy({ executor.ioPermissions?.allows(UInt64(port &+ $0)) ?? false }) {
            executor.suspend(thread, .exception(vector: 13, errorCode: 0, faultAddress: 0))
        }
    }

    public func portIn8(_ port: UInt16) -> UInt8 {
        checkPort(port)
        return machine.portIn(port)
    }

    public func portOut8(_ port: UInt16, _ value: UInt8) {
        checkPort(port)
        machine.portOut(port, value)
    }

    /// The simulated devices are byte-wide: a wide access is its bytes, low port first, after all of its ports
    /// passed the permission check.
    public func portIn16(_ port: UInt16) -> UInt16 {
        checkPort(port, count: 2)
        return UInt16(machine.portIn(port)) | UInt16(machine.portIn(port &+ 1)) << 8
    }

    public func portOut16(_ port: UInt16, _ value: UInt16) {
        checkPort(port, count: 2)
        machine.portOut(port, UInt8(truncatingIfNeeded: value))
        machine.portOut(port &+ 1, UInt8(truncatingIfNeeded: value >> 8))
    }

    public func portIn32(_ port: UInt16) -> UInt32 {
        checkPort(port, count: 4)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(machine.portIn(port &+ UInt16(i))) << (8 * UInt32(i)) }
        return value
    }

    public func portOut32(_ port: UInt16, _ value: UInt32) {
        checkPort(port, count: 4)
        for i in 0..<4 { machine.portOut(port &+ UInt16(i), UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    func programReturned() { executor.finish(thread) }
}
