import KernelABI

/// What user code needs from the machine it runs on: the `syscall` instruction, its own memory, and I/O ports.
/// On the image this is raw pointers and instructions (a C shim); in the simulator every access goes through the
/// simulated MMU and I/O bitmap, so a component that touches what it was not given faults the same way.
public protocol UserPlatform: AnyObject {
    /// Executes `syscall` with the number in rax and six arguments; returns rax, rdi, rsi after the kernel is done.
    func hypercall(_ number: UInt64, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64,
                   _ a5: UInt64) -> (rax: UInt64, rdi: UInt64, rsi: UInt64)
    func load64(_ address: UInt64) -> UInt64
    func store64(_ address: UInt64, _ value: UInt64)
    func load8(_ address: UInt64) -> UInt8
    func store8(_ address: UInt64, _ value: UInt8)
    /// One access of exactly 2 or 4 bytes, naturally aligned: device registers (ECAM, virtio's capability
    /// structures) react to the width of an access, so these are single instructions, never composed of bytes.
    func load16(_ address: UInt64) -> UInt16
    func store16(_ address: UInt64, _ value: UInt16)
    func load32(_ address: UInt64) -> UInt32
    func store32(_ address: UInt64, _ value: UInt32)
    func portIn8(_ port: UInt16) -> UInt8
    func portOut8(_ port: UInt16, _ value: UInt8)
    /// 16-bit port accesses, one instruction each (as the 32-bit ones below): devices such as the PCI address register
    /// (0xcf8) and virtio's legacy registers ignore or misread a wide register written a byte at a time.
    func portIn16(_ port: UInt16) -> UInt16
    func portOut16(_ port: UInt16, _ value: UInt16)
    /// One 32-bit port access (`in`/`out` with eax): PCI configuration mechanism 1 (0xCF8 takes only these) and
    /// devices' I/O BARs. The four ports `port ..< port + 4` must be allowed.
    func portIn32(_ port: UInt16) -> UInt32
    func portOut32(_ port: UInt16, _ value: UInt32)
    /// A monotonic counter for benchmarks: `rdtsc` on the image (counts instructions under QEMU `-icount`),
    /// virtual time in the simulator.
    func timestamp() -> UInt64
    /// The virtual address of the running EC's UTCB.
    var utcbAddress: UInt64 { get }
    /// One object the component keeps for all its ECs and all their entries (the VMM's device models, which must
    /// outlive each exit's handler frame): one slot per component, the same from every EC and every platform
    /// object of it. Nil until the component sets it.
    var componentState: AnyObject? { get set }
}
