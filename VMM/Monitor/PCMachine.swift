import DeviceModels
import GuestBoot
import UserRuntime

/// The PC a Linux guest runs on, one per VM (VMM/Devices): the interrupt controllers and timers, the 16550 console,
/// PCI (the bus brings its host bridge at 00:00.0) and a virtio-blk function at 00:01.0 serving the VM's disk (its
/// `disk` module or its `disk_service`, `GuestDisk`), fw_cfg and the ACPI power
/// management block the firmware tables describe. Swift objects that must outlive each exit: the VMM keeps them in
/// its component slot (`VMMDeviceTable`). Every access the exit handler routes here happens at the guest's
/// virtual time (`clock`), to which the timers are advanced first.
final class PCMachine<P: UserPlatform> {
    /// What the firmware tables (GuestBoot) and the devices both describe.
    static var platform: GuestPlatform { GuestPlatform(vcpuCount: 1, hasCMOSRTC: true) }
    static var ioWindow: (base: UInt16, end: UInt16) { (0xc000, 0xffff) }
    /// The RTC's time at virtual time 0: the VMM has no wall clock, so every boot starts at 2026-01-01 00:00 UTC.
    static var startTime: Int64 { 1_767_225_600 }

    let ram: GuestRAM<P>
    let pc: InterruptAndTimerDevices
    let serial: Serial16550
    let bus: PCIBus
    let virtio: VirtioPCIFunction?
    let firmware: FirmwareConfig
    let power: ACPIPowerManagement
    let clock: GuestClock
    let disk: GuestDisk<P>?
    /// The guest's exits by reason, reported when it ends.
    var exitStatistics = ExitStatistics()

    init(memory: GuestMemory<P>, disk: GuestDisk<P>?, clock: GuestClock) throws(MachineError) {
        ram = GuestRAM(memory)
        self.disk = disk
        self.clock = clock
        pc = InterruptAndTimerDevices(startTime: Self.startTime)
        serial = Serial16550(lines: pc.routing)
        bus = PCIBus(interrupts: pc.routing)
        firmware = FirmwareConfig(cpuCount: 1, ramSize: memory.size)
        power = ACPIPowerManagement(layout: Self.platform.powerManagement, interrupts: pc.routing)
        if let disk {
            let function: VirtioPCIFunction
            do throws(VirtioError) {
                function = try VirtioPCIFunction(device: VirtioBlock(store: disk.store, serial: "disk"), memory: ram)
            } catch {
                throw .virtio(error)
            }
            do throws(PCIConfigurationError) { try bus.attach(function, slot: 1) } catch { throw .pci(error) }
            virtio = function
        } else {
            virtio = nil
        }
        let window = Self.platform.pciHostBridge ?? GuestBoot.PCIHostBridge()
        do throws(PCIConfigurationError) {
            try bus.assignResources(memoryBase: window.memoryWindowStart, memoryEnd: window.memoryWindowEnd &+ 1,
                                    ioBase: Self.ioWindow.base, ioEnd: Self.ioWindow.end)
        } catch {
            throw .pci(error)
        }
    }

    /// Makes the devices reach guest RAM and the disk through `platform`, the EC serving this exit, whose UTCB is
    /// `utcb` (a disk service is called from it). The machine outlives the EC that built it; a platform is an EC's
    /// own (in the simulator each EC is a host thread whose platform suspends that thread), so an access through
    /// the builder's would stop the wrong EC.
    func bind(to platform: P, utcb: UInt64) {
        ram.bind(to: platform)
        disk?.bind(to: platform, utcb: utcb)
    }

    /// Brings the timers to timestamp `now`.
    func advance(to now: UInt64) { pc.timers.advance(to: clock.nanoseconds(at: now)) }

    /// The timestamp of the next timer event, if one is armed.
    var nextDeadline: UInt64? { pc.timers.nextDeadline.map { clock.timestamp(at: $0) } }

    /// The port-I/O device decoding an access of `size` bytes at `port` (the order matters only at 0xcf8-0xcfb:
    /// a dword is PCI's CONFIG_ADDRESS, a byte at 0xcf9 the reset register). No function has an I/O BAR.
    func portDevice(_ port: UInt16, size: Int) -> (any PortIODevice)? {
        if serial.decodes(port) { return serial }
        if PCIBus.claims(port: port, size: size) { return bus }
        if power.decodes(port) { return power }
        if port == FirmwareConfig.selectorPort || port == FirmwareConfig.dataPort { return firmware }
        if let device = pc.portDevice(for: port) { return device }
        return nil
    }

    /// The MMIO device at guest-physical `address` and the offset into its region.
    func mmioDevice(at address: UInt64) -> (device: any MMIODevice, offset: UInt64)? {
        if let found = pc.mmioDevice(at: address) { return found }
        if let found = bus.mmioDevice(at: address) { return (found.device, found.offset) }
        return nil
    }

    /// What the devices have to say since the last call: programming errors and virtio diagnostics, as log lines.
    func takeDiagnostics() -> [String] {
        var lines: [String] = []
        let (errors, dropped) = pc.takeErrors()
        for e in errors { lines.append(e.message) }
        if dropped > 0 { lines.append("\(dropped) more device errors") }
        if let virtio { lines += virtio.log.drain() }
        if let disk { lines += disk.takeDiagnostics() }
        return lines
    }
}

/// Why a VM's PC could not be built.
enum MachineError: Error {
    case pci(PCIConfigurationError)
    case virtio(VirtioError)

    var description: String {
        switch self {
        case .pci(let e): return "PCI: " + e.message
        case .virtio(let e): return "virtio: " + e.message
        }
    }
}
