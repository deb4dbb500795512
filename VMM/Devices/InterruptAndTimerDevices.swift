/// A PC's interrupt controllers and timers, built and wired as one VM needs them: 8259 pair, IOAPIC, local APIC,
/// PIT with port 0x61, CMOS RTC, the routing between them, and the timed ones grouped. The VMM's exit handler
/// looks devices up by port and address, advances `timers` to the exit's virtual time before each access, and
/// asks `routing` what to inject before each entry.
public final class InterruptAndTimerDevices {
    public let localAPIC: LocalAPIC
    public let ioapic: IOAPIC
    public let pic: PIC8259
    public let routing: InterruptRouting
    public let pit: PIT8254
    public let systemControl: SystemControlPort
    public let rtc: CMOSRTC
    public let timers: TimedDeviceGroup

    /// `startTime`: the RTC's time at virtual time 0 (seconds since 1970); `apicTimerHertz`: the local APIC's bus.
    public init(startTime: Int64, apicTimerHertz: UInt64 = LocalAPIC.defaultTimerHertz) {
        localAPIC = LocalAPIC(id: 0, timerHertz: apicTimerHertz)
        ioapic = IOAPIC(localAPIC: localAPIC)
        pic = PIC8259()
        routing = InterruptRouting(pic: pic, ioapic: ioapic, localAPIC: localAPIC)
        pit = PIT8254(lines: routing)
        systemControl = SystemControlPort(pit: pit)
        rtc = CMOSRTC(lines: routing, startTime: startTime)
        timers = TimedDeviceGroup([pit, rtc, localAPIC])
    }

    /// The device decoding `port`, if one of these does.
    public func portDevice(for port: UInt16) -> (any PortIODevice)? {
        switch port {
        case 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1: return pic
        case PIT8254.ports: return pit
        case SystemControlPort.port, SystemControlPort.postPort: return systemControl
        case CMOSRTC.indexPort, CMOSRTC.dataPort: return rtc
        default: return nil
        }
    }

    /// The device decoding guest-physical `address`, and the offset in its region.
    public func mmioDevice(at address: UInt64) -> (device: any MMIODevice, offset: UInt64)? {
        let apicBase = localAPIC.mmioBase
        if localAPIC.hardwareEnabled && address >= apicBase && address - apicBase < LocalAPIC.regionSize {
            return (localAPIC, address - apicBase)
        }
        if address >= IOAPIC.defaultBase && address - IOAPIC.defaultBase < IOAPIC.regionSize {
            return (ioapic, address - IOAPIC.defaultBase)
        }
        return nil
    }

    /// Every device's recorded errors since the last call, and how many were dropped beyond what they keep.
    public func takeErrors() -> (errors: [DeviceProgrammingError], dropped: Int) {
        var all: [DeviceProgrammingError] = []
        var dropped = 0
        func take(_ log: inout DeviceErrorLog) {
            let taken = log.take()
            all += taken.errors
            dropped += taken.dropped
        }
        take(&localAPIC.errors)
        take(&ioapic.errors)
        take(&pic.errors)
        take(&routing.errors)
        take(&pit.errors)
        take(&systemControl.errors)
        take(&rtc.errors)
        return (all, dropped)
    }
}
