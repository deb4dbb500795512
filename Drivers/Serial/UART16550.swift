import UserRuntime

/// A 16550 UART driven by polling through I/O ports: 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on,
/// interrupts off. Register offsets from the base port: 0 data / divisor low, 1 interrupt enable / divisor high,
/// 2 FIFO control, 3 line control, 4 modem control, 5 line status.
public struct UART16550<P: UserPlatform> {
    public static var portCount: UInt64 { 8 }
    /// Line status bit: the transmit holding register is empty.
    static var transmitEmpty: UInt8 { 0x20 }
    /// Polls before giving up on a UART that never becomes ready (a missing device must not hang the driver).
    static var maxPolls: Int { 100_000 }

    public let platform: P
    public let base: UInt16

    public init(platform: P, base: UInt16) {
        self.platform = platform
        self.base = base
    }

    public func initialize() {
        platform.portOut8(base + 1, 0x00)     // no interrupts
        platform.portOut8(base + 3, 0x80)     // divisor latch access
        platform.portOut8(base + 0, 0x01)     // divisor 1: 115200 baud
        platform.portOut8(base + 1, 0x00)
        platform.portOut8(base + 3, 0x03)     // 8N1, latch off
        platform.portOut8(base + 2, 0xc7)     // FIFOs on and cleared
        platform.portOut8(base + 4, 0x03)     // DTR, RTS
    }

    /// Sends one byte once the transmitter is ready; false when it never became ready.
    @discardableResult
    public func write(_ byte: UInt8) -> Bool {
        var polls = 0
        while platform.portIn8(base + 5) & Self.transmitEmpty == 0 {
            polls += 1
            if polls >= Self.maxPolls { return false }
        }
        platform.portOut8(base, byte)
        return true
    }
}
