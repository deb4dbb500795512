import UserRuntime
import X86UserShims

/// `UserPlatform` on the bare-metal image: memory is the EC's own address space, `syscall` and port I/O are real
/// instructions (a port the PD was not granted raises #GP, delivered to its fault handler). Memory accesses are
/// volatile (C shims): a load whose value is unused must still happen, so touching a revoked page faults exactly
/// as in the simulator.
public final class X86UserPlatform: UserPlatform {
    public let utcbAddress: UInt64

    /// `utcbAddress`: where the running EC's UTCB is mapped (AddressLayout.rootUTCB for the root task,
    /// ComponentLayout.utcb for a component's main EC).
    public init(utcbAddress: UInt64) { self.utcbAddress = utcbAddress }

    public func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                          _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64) {
        let r = x86_user_syscall(number, a0, a1, a2, a3, a4, a5)
        return (r.rax, r.rdi, r.rsi)
    }

    public func load64(_ address: UInt64) -> UInt64 { x86_user_load64(address) }
    public func store64(_ address: UInt64, _ value: UInt64) { x86_user_store64(address, value) }
    public func load8(_ address: UInt64) -> UInt8 { x86_user_load8(address) }
    public func store8(_ address: UInt64, _ value: UInt8) { x86_user_store8(address, value) }
    public func load16(_ address: UInt64) -> UInt16 { x86_user_load16(address) }
    public func store16(_ address: UInt64, _ value: UInt16) { x86_user_store16(address, value) }
    public func load32(_ address: UInt64) -> UInt32 { x86_user_load32(address) }
    public func store32(_ address: UInt64, _ value: UInt32) { x86_user_store32(address, value) }
    public func portIn8(_ port: UInt16) -> UInt8 { x86_user_in8(port) }
    public func portOut8(_ port: UInt16, _ value: UInt8) { x86_user_out8(port, value) }
    public func portIn16(_ port: UInt16) -> UInt16 { x86_user_in16(port) }
    public func portOut16(_ port: UInt16, _ value: UInt16) { x86_user_out16(port, value) }
    public func portIn32(_ port: UInt16) -> UInt32 { x86_user_in32(port) }
    public func portOut32(_ port: UInt16, _ value: UInt32) { x86_user_out32(port, value) }
    public func timestamp() -> UInt64 { x86_user_rdtsc() }
    /// Each component is its own binary on the image, so one variable of this binary is the component's slot.
    public var componentState: AnyObject? {
        get { x86ComponentState }
        set { x86ComponentState = newValue }
    }
}

/// `X86UserPlatform.componentState`: this binary's (this component's) one slot, shared by its ECs.
nonisolated(unsafe) var x86ComponentState: AnyObject? = nil
