import Kernel
import KernelABI

/// The kernel's `Platform` on a `SimMachine`. Physical accesses go to simulated RAM (a kernel access beyond RAM is
/// recorded as a kernel fault and the run stops, as the machine would crash); user code runs through
/// `SimUserExecutor` (host threads, one at a time); time, timer and interrupts are the machine's.
public final class SimPlatform: Platform {
    public let machine: SimMachine
    public let executor: SimUserExecutor
    /// Ticks charged for every entry to user mode, so a kernel that only switches contexts still moves time on.
    public var ticksPerUserEntry: UInt64 = 1
    /// `flushTranslations` calls (no TLB is modelled: every user access walks the tables afresh).
    public private(set) var flushCount = 0
    /// Each vCPU's guest CPU and engine state (SimGuestPlatform.swift).
    var guestCPUs: [ObjectIdentifier: SimGuestRecord] = [:]
    /// Guest instructions run on this machine so far, every vCPU's (the guest CPU's clock; `SimGuestPlatform`).
    public internal(set) var guestInstructions: UInt64 = 0
    /// How many guest tags (ASIDs) vCPUs may use: as many as QEMU's SVM offers, so recycling is exercised.
    public var guestTagCount: UInt64 = 16
    public var guestStateFrames: UInt64 { 1 }
    /// The nested-table format the kernel builds VM PDs in: x86-64 (AMD NPT, the default) or Intel EPT, so the
    /// kernel's EPT side runs in the simulator too (SimEPTWalker).
    public var nestedPaging: NestedPagingFormat = .x86_64

    public init(machine: SimMachine, programs: SimProgramRegistry = SimProgramRegistry()) {
        self.machine = machine
        self.executor = SimUserExecutor(machine: machine, programs: programs)
    }

    /// EC threads reference the executor, not the platform: when the platform goes, end them.
    deinit { executor.shutdown() }

    // MARK: physical memory

    public func readPhysical(_ address: UInt64) -> UInt64 {
        do throws(SimPhysicalMemoryError) { return try machine.memory.read64(address) } catch {
            machine.reportKernelFault("readPhysical: \(error)")
            return 0
        }
    }

    public func writePhysical(_ address: UInt64, _ value: UInt64) {
        do throws(SimPhysicalMemoryError) { try machine.memory.write64(address, value) } catch {
            machine.reportKernelFault("writePhysical: \(error)")
        }
    }

    public func readPhysicalWords(_ address: UInt64, into words: UnsafeMutableBufferPointer<UInt64>) {
        for i in words.indices { words[i] = readPhysical(address &+ UInt64(i) &* 8) }
    }

    public func writePhysicalWords(_ address: UInt64, from words: UnsafeBufferPointer<UInt64>) {
        for i in words.indices { writePhysical(address &+ UInt64(i) &* 8, words[i]) }
    }

    public func zeroPage(_ address: UInt64) {
        do throws(SimPhysicalMemoryError) { try machine.memory.zeroPage(address) } catch {
            machine.reportKernelFault("zeroPage: \(error)")
        }
    }

    public func copyPage(from source: UInt64, to destination: UInt64) {
        do throws(SimPhysicalMemoryError) { try machine.memory.copyPage(from: source, to: destination) } catch {
            machine.reportKernelFault("copyPage: \(error)")
        }
    }

    // MARK: address spaces

    public func activateAddressSpace(root: UInt64) { machine.cpu.activeRoot = root }

    public func flushTranslations(root: UInt64, page: UInt64?) { flushCount += 1 }

    /// The simulated MMU walks 1 GiB leaves (tests may turn them off to exercise 2 MiB-only machines).
    public var supportsGigabytePages = true

    // MARK: user execution

    public func enterUser(_ context: inout UserContext, ioPermissions: IOPermissionBitmap?) -> Exit {
        machine.record(.enterUser(rip: context.rip, root: context.addressSpaceRoot))
        machine.cpu.enterUserMode()
        machine.advance(by: ticksPerUserEntry)
        // Interrupts are enabled in user mode: anything pending is taken before the first instruction.
        let exit = machine.takePendingExit() ?? executor.run(&context, ioPermissions: ioPermissions)
        machine.cpu.returnToKernelMode()
        machine.record(.exit(exit))
        return exit
    }

    public func idle() -> Exit {
        machine.record(.idle)
        while true {
            if let exit = machine.takePendingExit() {
                machine.record(.exit(exit))
                return exit
            }
            guard let wake = machine.nextWakeTime else {
                // Nothing can ever raise an interrupt: the machine would halt forever. Report it and return a
                // spurious timer exit (harmless to a kernel) so the caller can notice `idleForever` and stop.
                machine.idleForever = true
                machine.record(.note("idle with nothing pending: the machine stopped"))
                return .timer
            }
            machine.advance(to: max(wake, machine.now))
        }
    }

    // MARK: time

    public var now: UInt64 { machine.now }

    public func setTimer(deadline: UInt64?) {
        machine.timer.set(deadline)
        machine.record(.timerSet(deadline))
    }

    // MARK: interrupts

    public func interruptTrigger(_ irq: UInt64) -> InterruptTrigger? { machine.interrupts.trigger(irq) }

    public func unmaskInterrupt(_ irq: UInt64) {
        machine.interrupts.unmask(irq)
        machine.record(.interruptMasked(irq: irq, masked: false))
    }

    public func maskInterrupt(_ irq: UInt64) {
        machine.interrupts.mask(irq)
        machine.record(.interruptMasked(irq: irq, masked: true))
    }

    public func endOfInterrupt(_ irq: UInt64) {
        machine.interrupts.endOfInterrupt(irq)
        machine.record(.endOfInterrupt(irq: irq))
    }

    /// Compatibility format, or with interrupt remapping the remappable message naming entry `lineCount + index`
    /// (handles are interrupt numbers, as on the x86 platform).
    public func messageInterrupt(_ index: UInt64) -> MessageInterrupt? {
        guard let message = machine.messages.message(index) else { return nil }
        return interruptRemapping ? .remappable(handle: UInt16(RootSelectors.lineCount + index)) : message
    }

    public var interruptRemapping: Bool { machine.iommu?.interruptRemapping ?? false }

    public func remapMessageInterrupt(_ index: UInt64, requester: UInt64?) {
        guard let iommu = machine.iommu, iommu.interruptRemapping, index < machine.messages.count else {
            return machine.reportKernelFault("remapMessageInterrupt(\(index)) without interrupt remapping or vector")
        }
        let handle = RootSelectors.lineCount + index
        var entry = InterruptRemapEntry.notPresent
        if let requester {
            entry = .remapped(vector: UInt8(SimMessageInterrupts.vectorBase + index),
                              apicID: UInt8(SimMessageInterrupts.apicID), level: false, source: UInt16(requester))
        }
        iommu.writeEntry(handle, low: entry.low, high: entry.high)
        iommu.invalidateEntry(handle)
        machine.record(.note("remapping entry \(handle): " + (requester.map { "device \(simHex($0))" } ?? "not present")))
    }

    public func remappedRequester(ofMessage index: UInt64) -> UInt64? {
        guard let iommu = machine.iommu, iommu.interruptRemapping else { return nil }
        let raw = iommu.entry(RootSelectors.lineCount + index)
        return InterruptRemapEntry(low: raw.low, high: raw.high).source.map { UInt64($0) }
    }

    // MARK: DMA remapping (the machine's IOMMU, when it has one)

    public var dmaRemapping: Bool { machine.iommu != nil }

    public func bindDevice(_ requester: UInt64, root: UInt64?) -> Bool {
        guard let iommu = machine.iommu else {
            machine.reportKernelFault("bindDevice without an IOMMU")
            return false
        }
        return iommu.bind(requester, root: root)
    }

    public func flushDeviceTranslations(root: UInt64) {
        guard let iommu = machine.iommu else { return machine.reportKernelFault("device flush without an IOMMU") }
        iommu.flush(root: root)
    }

    // MARK: console

    public func consoleWrite(_ byte: UInt8) { machine.appendConsole(byte) }
}
