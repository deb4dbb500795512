import KernelABI
import ManifestFormat
import UserRuntime

/// A component's fault: report it, take back everything the component was given, and restart it when the manifest
/// asks for that (up to `RootLayout.maxRestarts` times).
extension Supervisor {
    func handleFault(_ index: Int, event: UInt64) {
        let label = name(index)
        let m = mailbox
        console.line("root: \(label) faulted: \(eventName(event)) (vector \(event)), error code \(hex(m.data(FaultMessage.errorCode))), address \(hex(m.data(FaultMessage.faultAddress))), ip \(hex(m.data(FaultMessage.instructionPointer)))")
        teardown(index)
        guard system.components[index].restartOnFault else {
            console.line("root: \(label) stopped (the manifest does not ask for restarts)")
            return
        }
        guard records[index].restarts < RootLayout.maxRestarts else {
            console.line("root: \(label) stopped (restarted \(RootLayout.maxRestarts) times already)")
            return
        }
        records[index].restarts += 1
        console.line("root: restarting \(label) (restart \(records[index].restarts) of \(RootLayout.maxRestarts))")
        do throws(RootError) { try start(index) } catch {
            records[index].state = .failed
            console.line("root: cannot restart \(label): \(error)")
        }
    }

    func eventName(_ event: UInt64) -> String {
        switch event {
        case 0: return "divide error"
        case 3: return "breakpoint"
        case 6: return "invalid opcode"
        case 13: return "general protection fault"
        case 14: return "page fault"
        default: return "exception"
        }
    }

    /// Revokes everything the component was given and frees its pages: it can no longer run or touch anything.
    func teardown(_ index: Int) {
        // Its devices lose their DMA tables first (while the root still names the PD).
        unbindDevices(index)
        var record = records[index]
        for s in [record.sc, record.ec, record.pd] {
            _ = sys.revoke(CapabilityRange(kind: .object, base: s, permissions: Permissions.all), includeSelf: true)
        }
        // Its devices stop mastering the bus before any of its pages can be handed out again (they may hold a
        // queue the device still reads or writes).
        stopBusMastering(index)
        for page in record.pages {
            let window = CapabilityRange(kind: .memory, base: (AddressLayout.physicalWindow + page) >> AddressLayout.pageShift,
                                         permissions: Permissions.memoryAll)
            _ = sys.revoke(window, includeSelf: false)
            pages.free(page)
        }
        for d in CapabilityGrants.devices(of: granted(index)) { _ = sys.revoke(d.source, includeSelf: false) }
        // Its interrupt lines go back too (masked, nothing pending), so the restarted component (or another one)
        // can be granted them again.
        for irq in granted(index).interrupts {
            _ = sys.releaseInterrupt(sm: RootSelectors.interruptBase + irq, irq: irq)
        }
        record.pages = []
        records[index] = record
        revokeVMs(index)
        record = records[index]
        record.servicePortals = record.servicePortals.map { _ in nil }
        record.clientPortals = record.clientPortals.map { $0.map { _ in nil } }
        record.state = .stopped
        records[index] = record
    }
}
