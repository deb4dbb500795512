/// Like QEMU's isa-debug-exit: writing `v` to the port ends the run with exit status `(v << 1) | 1`.
public final class SimDebugExit: SimIODevice {
    public let port: UInt16
    public private(set) var exitStatus: UInt64?

    public init(port: UInt16 = 0xf4) { self.port = port }

    public var ports: [UInt16] { [port] }

    public func portIn(_ port: UInt16, machine: SimMachine) -> UInt8 { 0xff }

    public func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine) {
        guard exitStatus == nil else { return }
        exitStatus = UInt64(value) << 1 | 1
        machine.record(.note("debug exit with status \(UInt64(value) << 1 | 1)"))
    }
}
