/// COM1 (ports 0x3f8-0x3ff) as the guest sees it: a 16550 that is always ready to send. Bytes written to the
/// transmit register become console lines (VMControlBlock), which the VMM writes to its log service tagged with
/// the VM's name; the scratch register keeps what is written; everything else reads as a quiet, empty UART.
enum SerialPortModel {
    static let base: UInt16 = 0x3f8
    static let ports: ClosedRange<UInt16> = 0x3f8...0x3ff

    /// A byte written to `port`: returns a finished console line, if the byte ended one.
    static func write<P>(_ port: UInt16, _ value: UInt8, _ vm: VMControlBlock<P>) -> [UInt8]? {
        switch port - base {
        case 0: return vm.appendConsole(value)
        case 7: vm.latch = vm.latch & ~0xff00_0000_0000 | UInt64(value) << 40  // scratch, kept apart from the latch
        default: break
        }
        return nil
    }

    static func read<P>(_ port: UInt16, _ vm: VMControlBlock<P>) -> UInt8 {
        switch port - base {
        case 2: return 0x01          // IIR: no interrupt pending
        case 5: return 0x60          // LSR: transmitter empty and idle, nothing received
        case 6: return 0xb0          // MSR: CTS, DSR, DCD
        case 7: return UInt8(truncatingIfNeeded: vm.latch >> 40)
        default: return 0
        }
    }
}

/// A VMM test device at ports 0xe0-0xe3: a 32-bit latch that reads back what was written, at any size and offset
/// (so guests can check byte, word, dword and string I/O), and the debug-exit port 0xf4 QEMU's isa-debug-exit has.
enum TestDevice {
    static let latchPorts: ClosedRange<UInt16> = 0xe0...0xe3
    static let debugExit: UInt16 = 0xf4

    static func write<P>(_ port: UInt16, _ value: UInt8, _ vm: VMControlBlock<P>) {
        let shift = UInt64(port - latchPorts.lowerBound) * 8
        vm.latch = vm.latch & ~(0xff << shift) | UInt64(value) << shift
    }

    static func read<P>(_ port: UInt16, _ vm: VMControlBlock<P>) -> UInt8 {
        UInt8(truncatingIfNeeded: vm.latch >> (UInt64(port - latchPorts.lowerBound) * 8))
    }
}
