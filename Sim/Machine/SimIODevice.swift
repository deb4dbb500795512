/// A device behind I/O ports. The machine routes `in`/`out` on every port the device claimed to it.
public protocol SimIODevice: AnyObject {
    /// The ports this device answers.
    var ports: [UInt16] { get }
    func portIn(_ port: UInt16, machine: SimMachine) -> UInt8
    func portOut(_ port: UInt16, _ value: UInt8, machine: SimMachine)
}
