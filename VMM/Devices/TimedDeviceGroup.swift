/// The VM's timed devices as one: advancing it advances each, and its deadline is the earliest of theirs, the
/// virtual time at which the VMM must wake a halted vCPU (or stop a running one) to let a timer fire.
public final class TimedDeviceGroup: TimedDevice {
    public private(set) var devices: [any TimedDevice]

    public init(_ devices: [any TimedDevice]) { self.devices = devices }

    public func add(_ device: any TimedDevice) { devices.append(device) }

    public func advance(to now: UInt64) {
        for device in devices { device.advance(to: now) }
    }

    public var nextDeadline: UInt64? {
        var earliest: UInt64?
        for device in devices {
            if let deadline = device.nextDeadline, deadline < earliest ?? .max { earliest = deadline }
        }
        return earliest
    }
}
