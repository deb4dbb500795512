import KernelABI
import UserRuntime

/// A driver's side of the `pci` service: its own devices by index, through its portal.
public struct PCIClient<P: UserPlatform> {
    public let utcb: UTCB<P>
    public let portal: UInt64

    public init(utcb: UTCB<P>, portal: UInt64) {
        self.utcb = utcb
        self.portal = portal
    }

    /// Calls with `request`; the reply's words after the status, or the status that refused it.
    public func call(_ request: [UInt64], replyWords: Int) -> Result<[UInt64], PCIServiceError> {
        utcb.setMessage(untyped: request)
        let status = SystemCalls(utcb.platform).call(portal: portal)
        guard status == .success else { return .failure(PCIServiceError(status: status)) }
        let answer = Status(rawValue: utcb.data(0)) ?? .badState
        guard answer == .success else { return .failure(PCIServiceError(status: answer)) }
        return .success((0..<min(replyWords, max(0, utcb.untypedCount - 1))).map { utcb.data(1 + $0) })
    }

    public func count() -> Result<Int, PCIServiceError> {
        call([PCIServiceOperation.count.rawValue], replyWords: 1).map { Int($0.first ?? 0) }
    }

    /// The device's description (address, IDs, BARs, interrupt line) as the PCI driver knows it.
    public func describe(_ index: Int) -> Result<PCIFunction, PCIServiceError> {
        switch call([PCIServiceOperation.describe.rawValue, UInt64(index)], replyWords: 5 + 3 * PCIConfig.barCount) {
        case .failure(let e): return .failure(e)
        case .success(let w):
            guard w.count >= 5, w[4] <= UInt64(PCIConfig.barCount), w.count >= 5 + 3 * Int(w[4]) else {
                return .failure(PCIServiceError(status: .badRange))
            }
            var bars: [PCIBAR] = []
            for b in 0..<Int(w[4]) {
                guard let kind = PCIBAR.Kind(rawValue: UInt8(truncatingIfNeeded: w[5 + 3 * b])) else {
                    return .failure(PCIServiceError(status: .badRange))
                }
                bars.append(PCIBAR(index: Int((w[5 + 3 * b] >> 8) & 0xff), kind: kind, base: w[6 + 3 * b],
                                   size: w[7 + 3 * b], prefetchable: w[5 + 3 * b] & (1 << 16) != 0))
            }
            let line: UInt8 = w[3] == UInt64.max ? 0xff : UInt8(truncatingIfNeeded: w[3])
            return .success(PCIFunction(address: PCIAddress(routingID: UInt16(truncatingIfNeeded: w[0])),
                                        vendor: UInt16(truncatingIfNeeded: w[1]), device: UInt16(truncatingIfNeeded: w[1] >> 16),
                                        classCode: UInt32(truncatingIfNeeded: w[2]), bars: bars,
                                        interruptLine: line, interruptPin: w[3] == UInt64.max ? 0 : 1))
        }
    }

    public func read(_ index: Int, offset: UInt64, width: PCIAccessWidth) -> Result<UInt32, PCIServiceError> {
        call([PCIServiceOperation.read.rawValue, UInt64(index), offset, UInt64(width.rawValue)], replyWords: 1)
            .map { UInt32(truncatingIfNeeded: $0.first ?? 0) }
    }

    public func write(_ index: Int, offset: UInt64, width: PCIAccessWidth, _ value: UInt32) -> Result<Void, PCIServiceError> {
        call([PCIServiceOperation.write.rawValue, UInt64(index), offset, UInt64(width.rawValue), UInt64(value)],
             replyWords: 0).map { _ in () }
    }

    /// Sets decoding, bus mastering and INTx masking (`PCICommandFlags`); the command register as it then reads.
    public func setCommand(_ index: Int, flags: UInt64) -> Result<UInt16, PCIServiceError> {
        call([PCIServiceOperation.setCommand.rawValue, UInt64(index), flags], replyWords: 1)
            .map { UInt16(truncatingIfNeeded: $0.first ?? 0) }
    }

    /// Has the driver program the device's MSI capability with the kernel's message for message interrupt
    /// `number` (one the caller was granted) and enable it; the MSI control register as it then reads.
    public func enableMSI(_ index: Int, messageInterrupt number: UInt64) -> Result<UInt16, PCIServiceError> {
        call([PCIServiceOperation.enableMSI.rawValue, UInt64(index), number], replyWords: 1)
            .map { UInt16(truncatingIfNeeded: $0.first ?? 0) }
    }

    /// Has the driver write the kernel's message for message interrupt `number` (one the caller was granted) into
    /// entry `entry` of the device's MSI-X table, unmasked, and enable MSI-X; the MSI-X control register after.
    public func enableMSIX(_ index: Int, entry: Int, messageInterrupt number: UInt64) -> Result<UInt16, PCIServiceError> {
        call([PCIServiceOperation.enableMSIX.rawValue, UInt64(index), number, UInt64(entry)], replyWords: 1)
            .map { UInt16(truncatingIfNeeded: $0.first ?? 0) }
    }

    /// Masks every table entry and disables MSI-X.
    public func disableMSIX(_ index: Int) -> Result<UInt16, PCIServiceError> {
        call([PCIServiceOperation.disableMSIX.rawValue, UInt64(index)], replyWords: 1)
            .map { UInt16(truncatingIfNeeded: $0.first ?? 0) }
    }

    public func disableMSI(_ index: Int) -> Result<UInt16, PCIServiceError> {
        call([PCIServiceOperation.disableMSI.rawValue, UInt64(index)], replyWords: 1)
            .map { UInt16(truncatingIfNeeded: $0.first ?? 0) }
    }
}

/// Why the `pci` service (or the call to it) refused a request.
public struct PCIServiceError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Status
    public init(status: Status) { self.status = status }
    public var description: String { "pci service: \(status)" }
}
