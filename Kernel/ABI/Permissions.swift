/// Permission bits carried by capabilities (5 bits, meaning per kind). Delegation can only keep or drop bits.
public enum Permissions {
    // Memory
    public static let read: UInt64 = 1 << 0
    public static let write: UInt64 = 1 << 1
    public static let execute: UInt64 = 1 << 2
    public static let memoryAll: UInt64 = read | write | execute
    /// Device memory (MMIO: registers, configuration space): mapped uncached. Only the kernel sets it, on the
    /// device memory it gives the root at boot; every capability derived from such memory keeps it, whatever the
    /// delegation asks for, so a device register is never mapped cacheable and RAM never uncached.
    public static let device: UInt64 = 1 << 3

    // I/O ports
    public static let ioAccess: UInt64 = 1 << 0

    // Protection domain
    /// May create kernel objects whose memory is charged to this PD and whose caps land in it.
    public static let pdCreate: UInt64 = 1 << 0
    /// May delegate capabilities into this PD (the `delegate` hypercall's destination).
    public static let pdDelegate: UInt64 = 1 << 1
    /// May use the kernel debug console (`consoleWrite`).
    public static let pdConsole: UInt64 = 1 << 2
    /// Own right: may create VM PDs (`create_pd` with `PDFlags.vm`). Not every PD may make virtual machines.
    public static let pdVM: UInt64 = 1 << 3

    // Execution context
    /// May bind portals to this EC.
    public static let ecBindPortal: UInt64 = 1 << 0
    /// May bind a scheduling context to this EC.
    public static let ecBindSC: UInt64 = 1 << 1
    /// May recall the EC.
    public static let ecControl: UInt64 = 1 << 2

    // Scheduling context
    public static let scControl: UInt64 = 1 << 0

    // Portal
    public static let ptCall: UInt64 = 1 << 0
    public static let ptControl: UInt64 = 1 << 1

    // Semaphore
    public static let smUp: UInt64 = 1 << 0
    public static let smDown: UInt64 = 1 << 1
    /// May route an interrupt to this semaphore.
    public static let smAssign: UInt64 = 1 << 2

    public static let all: UInt64 = 0x1f
}
