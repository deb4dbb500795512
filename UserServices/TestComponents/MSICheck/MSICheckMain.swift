import KernelABI
import UserRuntime

/// The "msicheck" test component (Tests/ImageTests/Manifests/msi.toml): a message-signalled interrupt end to end on
/// a real (emulated) PCI device. It owns PCI configuration ports 0xCF8-0xCFF and the ports its e1000e's I/O BAR is
/// moved to, and one message interrupt. It assigns the message interrupt (the kernel returns the message), writes
/// the message into the e1000e's MSI capability, and then makes the device interrupt: each `down` on its semaphore
/// returns once per MSI. It also shows what it cannot do (bind a vector it was not given), that a released vector
/// reaches nobody, and that it can be assigned again. Every result is a line through the "log" service.
public func msiCheckMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log")
    else {
        _ = platform.load64(0) // no way to speak: a fault is the only message left (the root reports it)
        return
    }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    func say(_ text: String) { _ = log.write("msicheck: " + text + "\n") }
    let ioBase = info.ports.first { $0.count == UInt64(E1000E<P>.ioPortCount) }.map { UInt16($0.first) }
    guard let grant = info.interrupts.first(where: { RootSelectors.isMessage($0.irq) }), let ioBase else {
        return say("error: the manifest grants no message interrupt or no 32 ports for the e1000e's I/O BAR")
    }
    let line = info.interrupts.first { !RootSelectors.isMessage($0.irq) }
    MSICheck(platform: platform, say: say, semaphore: grant.semaphore, number: grant.irq, ioBase: ioBase,
             line: line.map { ($0.irq, $0.semaphore) }, ticksPerMillisecond: info.ticksPerMillisecond).run()
    // Done: wait on a semaphore nobody ups (returning would stop the EC with an invalid-opcode fault).
    let sys = SystemCalls(platform)
    let idle = ComponentSelectors.firstFree
    _ = sys.createSM(idle, count: 0)
    while sys.down(sm: idle) == .success {}
}

struct MSICheck<P: UserPlatform> {
    let platform: P
    let say: (String) -> Void
    let semaphore: UInt64
    let number: UInt64
    let ioBase: UInt16
    /// The e1000e's INTx line (number, semaphore), which the root task grants with the device.
    let line: (irq: UInt64, semaphore: UInt64)?
    let ticksPerMillisecond: UInt64
    static var rounds: Int { 8 }
    /// Far longer than one MSI takes even under slow emulation.
    static var waitMilliseconds: UInt64 { 2000 }
    static var quietMilliseconds: UInt64 { 30 }

    var sys: SystemCalls<P> { SystemCalls(platform) }
    var pci: PCIConfigPorts<P> { PCIConfigPorts(platform: platform) }
    var nic: E1000E<P> { E1000E(platform: platform, ioBase: ioBase) }

    func deadline(_ milliseconds: UInt64) -> UInt64 { platform.timestamp() + milliseconds * ticksPerMillisecond }

    func run() {
        guard let f = pci.find(vendor: E1000E<P>.vendor, device: E1000E<P>.device) else {
            return say("error: no e1000e (8086:10d3) on PCI bus 0")
        }
        guard let msi = pci.capability(f, id: PCIConfigPorts<P>.msiCapability) else {
            return say("error: the e1000e at \(f.text) has no MSI capability")
        }
        say("e1000e at \(f.text), MSI capability at \(hex(UInt64(msi)))")
        let requester = UInt64(f.bus) << 8 | UInt64(f.device) << 3 | UInt64(f.function)
        hostileAssignments(requester)

        // The device's I/O BAR at the ports the manifest grants; I/O decoding and bus mastering (an MSI is a write
        // the device masters) on, legacy INTx off.
        pci.write32(f, E1000E<P>.ioBAR, UInt32(ioBase) | 1)
        let command = pci.read32(f, 0x04) & 0xffff
        pci.write32(f, 0x04, command | 0x1 | 0x4 | 0x400)
        nic.write(E1000E<P>.imc, 0xffff_ffff)
        _ = nic.read(E1000E<P>.icr)

        let (status, message) = sys.assignMessageInterrupt(sm: semaphore, number: number, requester: requester)
        guard status == .success else { return say("error: assign_int of message interrupt \(number) returned \(status.description)") }
        say("message interrupt \(number): address \(hex(message.address)) data \(hex(message.data))")
        program(f, msi, message)
        nic.write(E1000E<P>.ims, E1000E<P>.txdw)

        var received = 0
        for round in 1...Self.rounds {
            nic.write(E1000E<P>.ics, E1000E<P>.txdw)
            let status = sys.down(sm: semaphore, deadline: deadline(Self.waitMilliseconds))
            let cause = nic.read(E1000E<P>.icr) // acknowledges: the next cause is a new MSI
            guard status == .success, cause & E1000E<P>.txdw != 0 else {
                return say("error: MSI \(round) did not arrive: down returned \(status.description), ICR \(hex(UInt64(cause)))")
            }
            received += 1
        }
        say("\(received) MSIs from the e1000e received")
        say("quiet: a \(Self.quietMilliseconds) ms timed down returned \(quietDown().description)")

        // Released (as the root task does at teardown), the vector reaches nobody, though the device still sends.
        say("release returned \(sys.releaseInterrupt(sm: semaphore, irq: number).description)")
        nic.write(E1000E<P>.ics, E1000E<P>.txdw)
        let released = quietDown()
        _ = nic.read(E1000E<P>.icr)
        say("released: the device's MSI reached nobody, a timed down returned \(released.description)")
        let again = sys.assignMessageInterrupt(sm: semaphore, number: number, requester: requester)
        say("assigned again: \(again.status.description), the same message: \(again.message == message)")
        nic.write(E1000E<P>.ics, E1000E<P>.txdw)
        let after = sys.down(sm: semaphore, deadline: deadline(Self.waitMilliseconds))
        _ = nic.read(E1000E<P>.icr)
        say("assigned again: the next MSI's down returned \(after.description)")
        if message.remappableHandle != nil { hostileMessages(f, msi, message, requester) }
        pointAtForeignMemory()
    }

    /// A device msicheck does not own (the ISA bridge, 00:1f.0).
    static var foreignDevice: UInt64 { 0xf8 }

    /// With interrupt remapping (the kernel's message is in remappable format): assign_int for a device msicheck
    /// does not own is refused; and the e1000e itself, programmed through configuration space with another entry's
    /// handle (its INTx line's, whose entry admits only the IOAPIC), raises nothing: the IOMMU blocks the message
    /// by source validation. Its own message then works again.
    func hostileMessages(_ f: PCIConfigPorts<P>.Function, _ msi: UInt8, _ message: MessageInterrupt, _ requester: UInt64) {
        _ = sys.releaseInterrupt(sm: semaphore, irq: number)
        let foreign = sys.assignMessageInterrupt(sm: semaphore, number: number, requester: Self.foreignDevice).status
        let own = sys.assignMessageInterrupt(sm: semaphore, number: number, requester: requester).status
        say("remapping: assigning for device 00:1f.0 (not msicheck's) returned \(foreign.description), for its own "
            + "\(own.description)")
        guard let line else { return say("error: the root task granted no INTx line with the e1000e") }
        program(f, msi, .remappable(handle: UInt16(line.irq)))
        nic.write(E1000E<P>.ics, E1000E<P>.txdw)
        let stolen = sys.down(sm: line.semaphore, deadline: deadline(Self.quietMilliseconds))
        let mine = quietDown()
        _ = nic.read(E1000E<P>.icr)
        say("remapping: the e1000e sent irq \(line.irq)'s handle (the IOAPIC's entry): a timed down on that line "
            + "returned \(stolen.description), on its own \(mine.description)")
        program(f, msi, message)
        nic.write(E1000E<P>.ics, E1000E<P>.txdw)
        let back = sys.down(sm: semaphore, deadline: deadline(Self.waitMilliseconds))
        _ = nic.read(E1000E<P>.icr)
        say("remapping: its own message again: down returned \(back.description)")
    }

    /// Device address 64 GiB: beyond the test machine's RAM, memory msicheck does not hold.
    static var foreignAddress: UInt64 { 0x10_0000_0000 }

    /// Points the e1000e's transmit ring at memory msicheck does not hold and starts transmitting: the device's
    /// descriptor fetch is a DMA read there. With DMA remapping the IOMMU blocks it and the kernel reports the
    /// fault (device, address, reason); without, the read finds no RAM there.
    func pointAtForeignMemory() {
        nic.write(E1000E<P>.imc, 0xffff_ffff)
        nic.write(E1000E<P>.tdbal, UInt32(truncatingIfNeeded: Self.foreignAddress))
        nic.write(E1000E<P>.tdbah, UInt32(truncatingIfNeeded: Self.foreignAddress >> 32))
        nic.write(E1000E<P>.tdlen, 128)
        nic.write(E1000E<P>.tdh, 0)
        nic.write(E1000E<P>.tdt, 0)
        nic.write(E1000E<P>.tctl, 1 << 1)
        nic.write(E1000E<P>.tdt, 1)
        _ = quietDown() // time for the device to try
        say("DMA: the e1000e's transmit ring points at \(hex(Self.foreignAddress)), memory msicheck does not hold")
    }

    /// Writes the message into the MSI capability (address, upper address when 64-bit, data) and enables MSI with
    /// one vector.
    func program(_ f: PCIConfigPorts<P>.Function, _ msi: UInt8, _ message: MessageInterrupt) {
        let header = pci.read32(f, msi)
        let control = header >> 16
        let is64 = control & 0x80 != 0
        pci.write32(f, msi + 4, UInt32(truncatingIfNeeded: message.address))
        if is64 { pci.write32(f, msi + 8, UInt32(truncatingIfNeeded: message.address >> 32)) }
        pci.write32(f, msi + (is64 ? 12 : 8), UInt32(truncatingIfNeeded: message.data) & 0xffff)
        pci.write32(f, msi, (control & ~0x70 | 1) << 16 | header & 0xffff)
    }

    func quietDown() -> Status { sys.down(sm: semaphore, deadline: deadline(Self.quietMilliseconds)) }

    /// A driver can bind only the vector it holds: another message interrupt's semaphore is not in its space, its
    /// own semaphore stands for one number only, and its own semaphores are no interrupts.
    func hostileAssignments(_ requester: UInt64) {
        let other = RootSelectors.interruptBase + number + 1
        let notHeld = sys.assignMessageInterrupt(sm: other, number: number + 1, requester: requester).status
        let wrongNumber = sys.assignMessageInterrupt(sm: semaphore, number: number + 1, requester: requester).status
        let own = ComponentSelectors.firstFree + 1
        _ = sys.createSM(own, count: 0)
        let ordinary = sys.assignMessageInterrupt(sm: own, number: number, requester: requester).status
        say("hostile: another vector's selector \(notHeld.description), another number \(wrongNumber.description), "
            + "its own semaphore \(ordinary.description)")
    }
}
