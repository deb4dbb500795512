import KernelABI
import UserRuntime

/// The `pci` service: a driver reaches the configuration space of the devices the manifest assigned to it, and
/// nothing else. Each client has its own portal (the portal id says who calls), so a device is named by its index
/// in the caller's own list: other devices do not exist for it. Untyped words; the reply's word 0 is a `Status`.
///
///     count                         -> status, n
///     describe(i)                   -> status, routing id, vendor | device << 16, class code, interrupt line
///                                      (all ones: none), BAR count b, b x (kind | index << 8 | prefetchable << 16,
///                                      base, size)
///     read(i, offset, width)        -> status, value           (any aligned access in the 256-byte space)
///     write(i, offset, width, v)    -> status                  (`PCIConfigWriteFilter`: insufficientRights when
///                                                               refused, badRange when misaligned or outside)
///     setCommand(i, flags)          -> status, command         (flags: `PCICommandFlags`; I/O or memory decoding
///                                                               only for a device with such a BAR: badRange)
///     enableMSI(i, n)               -> status, MSI control     (n: a message interrupt the caller was granted, else
///                                                               insufficientRights; the device's MSI capability gets
///                                                               the message the kernel chose for n, one vector, and
///                                                               is enabled; no MSI capability: badState)
///     disableMSI(i)                 -> status, MSI control     (no MSI capability: badState)
/// An unknown operation or device index, or too few words, is `badRange`.
public enum PCIServiceOperation: UInt64, Sendable {
    case count = 1, describe = 2, read = 3, write = 4, setCommand = 5, enableMSI = 6, disableMSI = 7,
         enableMSIX = 8, disableMSIX = 9
}

/// The bits of a set-command request: each one the driver may turn on (an unset bit turns it off).
public enum PCICommandFlags {
    public static let io: UInt64 = 1 << 0
    public static let memory: UInt64 = 1 << 1
    public static let busMaster: UInt64 = 1 << 2
    public static let intxDisable: UInt64 = 1 << 3
    public static let all: UInt64 = io | memory | busMaster | intxDisable
}

/// Where the root task tells the PCI driver who its clients are and what their devices are (as the root task found
/// and sized them before any component ran, so the driver never re-sizes a BAR under a running driver): a
/// read-only page at `address` in the PCI driver.
///     word 0 magic, 1 client count n (at most `maxClients`), then per client `clientWords` words: the landing
///     selector of its portal in the root task, the device count d (at most `maxDevices`), then `deviceWords` per
///     device: routing id, vendor | device << 16, class code, interrupt line | pin << 8, BAR count b, 6 x (kind |
///     index << 8 | prefetchable << 16, base, size); then the message-interrupt count m (at most `maxMessages`) and
///     `maxMessages` x (interrupt number, MSI address, MSI data): the messages the kernel chose for the client's
///     message interrupts (the root task learnt them with `assign_int` before anyone ran).
/// Client k's portal is registered with `ServiceRegistration`'s message plus word 1 = k + 1 (`PCIClientPortal`).
public enum PCIClientTable {
    public static let address: UInt64 = 0x0000_6800_0000_0000
    public static let magic: UInt64 = 0x4c42_5443_4943_5056 // "VPCICTBL"
    public static let maxClients = 8
    public static let maxDevices = 2
    public static let deviceWords = 5 + 3 * PCIConfig.barCount
    public static let maxMessages = 4
    public static let clientWords = 2 + maxDevices * deviceWords + 1 + 3 * maxMessages
    /// magic, client count, ECAM window (virtual address of its first bus, 0: none), its buses (start | end << 8).
    public static let headerWords = 4

    /// The configuration window the root task gave the PCI driver: mapped at `base` (its first bus), uncached.
    public struct Window: Equatable, Sendable {
        public var base: UInt64
        public var startBus: UInt8
        public var endBus: UInt8
        public init(base: UInt64, startBus: UInt8, endBus: UInt8) {
            self.base = base
            self.startBus = startBus
            self.endBus = endBus
        }
    }

    public struct Client: Equatable, Sendable {
        public var landing: UInt64
        public var devices: [PCIFunction]
        public var messages: [PCIMessageGrant]
        public init(landing: UInt64, devices: [PCIFunction], messages: [PCIMessageGrant] = []) {
            self.landing = landing
            self.devices = devices
            self.messages = messages
        }
    }

    /// At most `maxClients` clients of at most `maxDevices` devices and `maxMessages` messages each (the root task
    /// checks before it writes).
    public static func words(_ clients: [Client], window: Window? = nil) -> [UInt64] {
        var w: [UInt64] = [magic, UInt64(clients.count), window?.base ?? 0,
                           window.map { UInt64($0.startBus) | UInt64($0.endBus) << 8 } ?? 0]
        for c in clients {
            w.append(c.landing)
            w.append(UInt64(c.devices.count))
            for k in 0..<maxDevices {
                var device = [UInt64](repeating: 0, count: deviceWords)
                if k < c.devices.count {
                    let f = c.devices[k]
                    device[0] = UInt64(f.address.routingID)
                    device[1] = UInt64(f.vendor) | UInt64(f.device) << 16
                    device[2] = UInt64(f.classCode)
                    device[3] = UInt64(f.interruptLine) | UInt64(f.interruptPin) << 8
                    device[4] = UInt64(f.bars.count)
                    for (b, bar) in f.bars.prefix(PCIConfig.barCount).enumerated() {
                        device[5 + 3 * b] = UInt64(bar.kind.rawValue) | UInt64(bar.index) << 8 | (bar.prefetchable ? 1 << 16 : 0)
                        device[6 + 3 * b] = bar.base
                        device[7 + 3 * b] = bar.size
                    }
                }
                w += device
            }
            w.append(UInt64(c.messages.count))
            for k in 0..<maxMessages {
                let m = k < c.messages.count ? c.messages[k] : PCIMessageGrant(number: 0, message: .init(address: 0, data: 0))
                w += [m.number, m.message.address, m.message.data]
            }
        }
        return w
    }

    /// The table's configuration window; nil without one (or when the page is not a table, or its buses are
    /// out of order): the driver then uses ports 0xcf8/0xcfc.
    public static func window(_ word: (Int) -> UInt64) -> Window? {
        guard word(0) == magic, word(2) != 0 else { return nil }
        let start = UInt8(truncatingIfNeeded: word(3)), end = UInt8(truncatingIfNeeded: word(3) >> 8)
        guard start <= end, word(3) >> 16 == 0 else { return nil }
        return Window(base: word(2), startBus: start, endBus: end)
    }

    /// nil when the page is not a table (magic, counts, BAR kinds): the driver then serves nobody.
    public static func read(_ word: (Int) -> UInt64) -> [Client]? {
        guard word(0) == magic, word(1) <= UInt64(maxClients) else { return nil }
        var clients: [Client] = []
        for k in 0..<Int(word(1)) {
            let base = headerWords + k * clientWords
            let count = word(base + 1)
            guard count <= UInt64(maxDevices) else { return nil }
            var devices: [PCIFunction] = []
            for d in 0..<Int(count) {
                let at = base + 2 + d * deviceWords
                let barCount = word(at + 4)
                guard barCount <= UInt64(PCIConfig.barCount) else { return nil }
                var bars: [PCIBAR] = []
                for b in 0..<Int(barCount) {
                    let info = word(at + 5 + 3 * b)
                    guard let kind = PCIBAR.Kind(rawValue: UInt8(truncatingIfNeeded: info)) else { return nil }
                    bars.append(PCIBAR(index: Int((info >> 8) & 0xff), kind: kind, base: word(at + 6 + 3 * b),
                                       size: word(at + 7 + 3 * b), prefetchable: info & (1 << 16) != 0))
                }
                let ids = word(at + 1), irq = word(at + 3)
                devices.append(PCIFunction(address: PCIAddress(routingID: UInt16(truncatingIfNeeded: word(at))),
                                           vendor: UInt16(truncatingIfNeeded: ids), device: UInt16(truncatingIfNeeded: ids >> 16),
                                           classCode: UInt32(truncatingIfNeeded: word(at + 2)), bars: bars,
                                           interruptLine: UInt8(truncatingIfNeeded: irq),
                                           interruptPin: UInt8(truncatingIfNeeded: irq >> 8)))
            }
            let at = base + 2 + maxDevices * deviceWords
            guard word(at) <= UInt64(maxMessages) else { return nil }
            let messages = (0..<Int(word(at))).map { m in
                PCIMessageGrant(number: word(at + 1 + 3 * m),
                                message: MessageInterrupt(address: word(at + 2 + 3 * m), data: word(at + 3 + 3 * m)))
            }
            clients.append(Client(landing: word(base), devices: devices, messages: messages))
        }
        return clients
    }
}

/// How the PCI driver registers client k's portal: the registration message of `ServiceRegistration` with a
/// second untyped word, k + 1, so the root task delegates it to that client only.
public enum PCIClientPortal {
    public static func register<P: UserPlatform>(_ utcb: UTCB<P>, serviceID: UInt64, client: Int, landing: UInt64,
                                                 portal: UInt64) -> Status {
        let item = CapabilityRange(kind: .object, base: portal, order: 0, permissions: Permissions.ptCall)
        utcb.setMessage(untyped: [serviceID, UInt64(client) + 1], typed: [(item, landing)])
        let status = SystemCalls(utcb.platform).call(portal: ComponentSelectors.registration)
        guard status == .success else { return status }
        return Status(rawValue: utcb.data(0)) ?? .badState
    }
}

/// A message interrupt granted to a client (its interrupt number) and the message the kernel chose for it.
public struct PCIMessageGrant: Equatable, Sendable {
    public var number: UInt64
    public var message: MessageInterrupt
    public init(number: UInt64, message: MessageInterrupt) {
        self.number = number
        self.message = message
    }
}
