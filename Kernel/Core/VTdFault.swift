/// A fault the VT-d unit recorded (fault recording registers, VT-d spec 10.4.14): a blocked DMA access, or a
/// blocked interrupt request (reasons 0x20-0x26, which use the same registers: the index field then holds the
/// interrupt's handle instead of an address). `description` is the kernel's console line for it.
public struct VTdFault: Equatable, Sendable, CustomStringConvertible {
    public var requester: UInt16
    /// DMA: the page address; interrupt remapping: the handle (interrupt index) the message named.
    public var address: UInt64
    public var reason: UInt8
    public var write: Bool
    public init(requester: UInt16, address: UInt64, reason: UInt8, write: Bool) {
        self.requester = requester
        self.address = address
        self.reason = reason
        self.write = write
    }

    /// Decodes one fault recording register (16 bytes: `low` fault info, `high` source ID, reason, type).
    public init(recordLow low: UInt64, high: UInt64) {
        requester = UInt16(truncatingIfNeeded: high)
        reason = UInt8(truncatingIfNeeded: high >> 32)
        write = (high >> 62) & 1 == 0
        address = Self.isInterruptRemapping(reason) ? low >> 48 : low & ~0xfff
    }

    public static func isInterruptRemapping(_ reason: UInt8) -> Bool { (0x20...0x26).contains(reason) }

    public var device: String {
        hex2(UInt64(requester >> 8)) + ":" + hex2(UInt64(requester >> 3 & 0x1f)) + "." + String(requester & 7)
    }

    public var description: String {
        let why = "reason 0x\(String(reason, radix: 16)) (\(Self.name(reason)))"
        if Self.isInterruptRemapping(reason) {
            return "kernel: interrupt remapping fault: device \(device) message with handle \(address) blocked: \(why)"
        }
        return "kernel: DMA fault: device \(device) \(write ? "write" : "read") at 0x\(String(address, radix: 16)) "
            + "blocked: \(why)"
    }

    /// VT-d fault reasons (spec 7.1.3 and 7.1.4, legacy mode) a blocked device meets.
    public static func name(_ reason: UInt8) -> String {
        switch reason {
        case 0x1: return "no root entry: no device of that bus is bound"
        case 0x2: return "no context entry: the device is not bound"
        case 0x4: return "address beyond the table's width"
        case 0x5: return "write not permitted"
        case 0x6: return "read not permitted: memory the PD does not hold"
        case 0x20: return "reserved bits set in the interrupt request"
        case 0x21: return "handle beyond the interrupt remapping table"
        case 0x22: return "no remapping entry: the interrupt is not assigned"
        case 0x23: return "the interrupt remapping table could not be read"
        case 0x24: return "reserved bits set in the remapping entry"
        case 0x25: return "compatibility-format interrupt blocked"
        case 0x26: return "source validation failed: the entry belongs to another device"
        default: return "see the VT-d specification"
        }
    }
}

private func hex2(_ v: UInt64) -> String {
    let text = String(v & 0xff, radix: 16)
    return text.count == 1 ? "0" + text : text
}
