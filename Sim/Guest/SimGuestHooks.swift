import CUnicorn

/// The engine's callbacks, each a thin C entry that finds its `SimGuestCPU` through the hook's user data.
/// - every block: virtual time, the slice's end, the interrupt window, and (first time a block is seen) the scan that
///   puts a one-address code hook on each instruction Unicorn cannot intercept itself;
/// - those code hooks: intercept (stop before the instruction) or emulate (RDTSC, SYSCALL, MSRs);
/// - interrupts/invalid opcodes: stop, so the guest CPU raises them through the IDT itself;
/// - invalid memory: fill the TLB from the nested mapping, or stop with a nested page fault;
/// - IN/OUT of ports that are not intercepted: the caller's passthrough.
extension SimGuestCPU {
    static func of(_ data: UnsafeMutableRawPointer?) -> SimGuestCPU { Unmanaged<SimGuestCPU>.fromOpaque(data!).takeUnretainedValue() }

    var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    func installHooks() {
        var hook: uc_hook = 0
        let uc = engine.uc
        cu_hook_code(uc, &hook, Int32(UC_HOOK_BLOCK.rawValue), { _, address, size, data in
            SimGuestCPU.of(data).onBlock(address, size)
        }, userData, 1, 0)
        cu_hook_intr(uc, &hook, { _, vector, data in SimGuestCPU.of(data).onInterrupt(vector) }, userData)
        cu_hook_invalid(uc, &hook, { _, data in SimGuestCPU.of(data).onInvalidOpcode() }, userData)
        cu_hook_mem_invalid(uc, &hook, { _, type, address, size, _, data in
            SimGuestCPU.of(data).onInvalidMemory(type, address, size)
        }, userData)
        cu_hook_in(uc, &hook, { _, port, size, data in
            SimGuestCPU.of(data).controls.ioPassthrough(UInt16(truncatingIfNeeded: port), Int(size), nil)
        }, userData)
        cu_hook_out(uc, &hook, { _, port, size, value, data in
            _ = SimGuestCPU.of(data).controls.ioPassthrough(UInt16(truncatingIfNeeded: port), Int(size), value)
        }, userData)
    }

    private func stopEngine(_ cause: Stop) {
        if stop == nil { stop = cause }
        engine.stop()
    }

    // MARK: blocks

    func onBlock(_ address: UInt64, _ size: UInt32) {
        if blocksStale { forgetBlocks() }
        if address == blockAddress && !currentOffsets.isEmpty && clock < budgetEnd && !watchWindow && windowGrace == nil
            && !recallPending {
            blockClock = clock // the same block again (a loop): no lookup
            clock &+= UInt64(currentOffsets.count)
            return
        }
        guard let block = blocks[address], block.size == size else {
            scan(address, size)
            return
        }
        if clock >= budgetEnd || recallPending {
            engine.write(UC_X86_REG_RIP, address &- block.csBase) // the block has not run
            stopEngine(recallPending ? .recall : .budget)
            return
        }
        if windowGrace == address {
            windowGrace = nil
        } else if watchWindow && engine.read(UC_X86_REG_EFLAGS) & 0x200 != 0 {
            engine.write(UC_X86_REG_RIP, address &- block.csBase)
            stopEngine(.window)
            return
        }
        blockClock = clock
        blockAddress = address
        currentOffsets = block.offsets
        clock &+= UInt64(block.count)
    }

    /// First sight of a block: count its instructions and hook the special ones, then restart it so the hooks apply.
    private func scan(_ address: UInt64, _ size: UInt32) {
        let (bits, csBase) = engine.codeMode()
        let length = Int(min(size, 4096))
        var code = [UInt8](repeating: 0, count: max(length, 1))
        let readable = code.withUnsafeMutableBytes { engine.readLinear(address, into: $0.baseAddress!, count: length) }
        var count: UInt32 = 1
        var offsets: [UInt16] = [0]
        var hooked = false
        if readable && length > 0 {
            let lengths = code.withUnsafeBytes { instructionLengths($0, address: address, bits: bits) }
            count = UInt32(max(lengths.count, 1))
            var offset = 0
            offsets = []
            for (index, instructionLength) in lengths.enumerated() {
                offsets.append(UInt16(offset))
                let at = address &+ UInt64(offset)
                let bytes = Array(code[offset..<min(offset + 15, length)])
                if SimGuestInstruction.decode(bytes, bits: bits) != nil {
                    if specials[at] == nil {
                        var hook: uc_hook = 0
                        cu_hook_code(engine.uc, &hook, Int32(UC_HOOK_CODE.rawValue), { _, address, _, data in
                            SimGuestCPU.of(data).onSpecial(address)
                        }, userData, at, at)
                        hooked = true
                    }
                    specials[at] = Special(bits: bits, csBase: csBase, index: UInt32(index))
                }
                offset += Int(instructionLength)
            }
        }
        blocks[address] = Block(size: size, count: count, csBase: csBase, offsets: offsets)
        // Restart the block: it runs again with its hooks, and is counted then.
        engine.write(UC_X86_REG_RIP, address &- csBase)
        if hooked {
            engine.removeTranslations(from: address, to: address &+ UInt64(size))
            // The block translated before its hooks existed must not run on: leave the engine here, so the run loop
            // enters again at the block's start and the new translation carries the hooks.
            stopEngine(.restart)
        }
    }

    // MARK: instructions Unicorn cannot intercept

    func onSpecial(_ address: UInt64) {
        guard let special = specials[address] else { return }
        var bytes = [UInt8](repeating: 0, count: 15)
        var count = 15
        while count > 0, !bytes.withUnsafeMutableBytes({ engine.readLinear(address, into: $0.baseAddress!, count: count) }) { count -= 1 }
        guard count > 0, let (instruction, length) = SimGuestInstruction.decode(Array(bytes.prefix(count)), bits: special.bits)
        else { return }
        let rip = address &- special.csBase
        let nextRip = rip &+ UInt64(length)
        // Virtual time at this instruction: the block was counted whole on entry; it ends here (an exit stops the
        // engine, an emulated instruction moves rip), so the clock is set to what has really run.
        let now = retired(before: address) ?? blockClock &+ UInt64(special.index)
        func exit(_ exit: SimGuestExit) {
            clock = now
            stopEngine(.exit(exit))
        }
        func gpr(_ n: Int) -> UInt64 { engine.read(Self.gprRegisters[n & 15]) }
        func setTSC(_ tsc: UInt64) {
            engine.write(UC_X86_REG_RAX, tsc & 0xffff_ffff)
            engine.write(UC_X86_REG_RDX, tsc >> 32)
        }
        switch instruction {
        case .cpuid:
            if controls.cpuid { exit(.cpuid(nextRip: nextRip)) }
        case .hlt:
            if controls.hlt {
                exit(.hlt(nextRip: nextRip))
            } else {
                clock = now &+ 1
                stopEngine(.halt(nextRip: nextRip))
            }
        case .io(let immediate, let size, let isIn, let isString, let isRep):
            let port = immediate.map { UInt16($0) } ?? UInt16(truncatingIfNeeded: gpr(2))
            if (0..<size).contains(where: { controls.interceptsPort(port &+ UInt16($0)) }) {
                exit(.io(SimGuestIOExit(port: port, size: size, isIn: isIn, isString: isString, isRep: isRep, nextRip: nextRip)))
            }
        case .rdmsr, .wrmsr:
            let msr = UInt32(truncatingIfNeeded: gpr(1))
            let write = instruction == .wrmsr
            let value = (gpr(2) & 0xffff_ffff) << 32 | (gpr(0) & 0xffff_ffff)
            if controls.interceptsMSR(msr, write) {
                exit(write ? .msrWrite(msr: msr, value: value, nextRip: nextRip) : .msrRead(msr: msr, nextRip: nextRip))
            } else if !SimGuestMSR.passable.contains(msr) || (write && msr == SimGuestMSR.efer && value & 0x1000 != 0) {
                clock = now
                stopEngine(.fault(.gp())) // not one of the guest's own MSRs (and no SVM: EFER.SVME is reserved)
            } else if msr == SimGuestMSR.tsc {
                if write { tscOffset = value &- now } else { setTSC(now &+ tscOffset) }
                engine.write(UC_X86_REG_RIP, nextRip)
                clock = now &+ 1
            }
        case .rdtsc, .rdtscp:
            if controls.rdtsc {
                exit(.rdtsc(nextRip: nextRip))
            } else {
                setTSC(now &+ tscOffset)
                if instruction == .rdtscp { engine.write(UC_X86_REG_RCX, engine.readMSR(SimGuestMSR.tscAux) & 0xffff_ffff) }
                engine.write(UC_X86_REG_RIP, nextRip)
                clock = now &+ 1
            }
        case .movFromCR(let cr, let gpr):
            if controls.crReads & (1 << UInt16(cr & 15)) != 0 { exit(.crRead(cr: cr, gpr: gpr, nextRip: nextRip)) }
        case .smsw(let gpr):
            if controls.crReads & 1 != 0 { exit(.crRead(cr: 0, gpr: gpr, nextRip: nextRip)) }
        case .movToCR(let cr, let register):
            if controls.crWrites & (1 << UInt16(cr & 15)) != 0 {
                exit(.crWrite(cr: cr, value: gpr(register), nextRip: nextRip))
            } else {
                blocksStale = true // a new address space or mode: blocks at the same address may differ
            }
        case .clts:
            if controls.crWrites & 1 != 0 { exit(.crWrite(cr: 0, value: engine.read(UC_X86_REG_CR0) & ~8, nextRip: nextRip)) }
        case .lmsw(let register):
            let cr0 = engine.read(UC_X86_REG_CR0)
            let source = register.map { gpr($0) } ?? cr0 // a memory operand is not read: reported as CR0 unchanged
            if controls.crWrites & 1 != 0 {
                exit(.crWrite(cr: 0, value: (cr0 & ~0xe) | (source & 0xf) | (cr0 & 1), nextRip: nextRip))
            } else {
                blocksStale = true
            }
        case .invlpg(let operand):
            if controls.invlpg {
                var state = SimGuestState()
                for n in 0..<16 { state[gpr: n] = gpr(n) }
                exit(.invlpg(address: operand.address(in: state, nextRip: nextRip), nextRip: nextRip))
            }
        case .xsetbv:
            break // the CPU model has no XSAVE: the engine raises #UD
        case .syscall:
            clock = now &+ 1
            stopEngine(.syscall(nextRip: nextRip))
        case .sysenter, .sysexit:
            clock = now
            stopEngine(.fault(.exception(vector: 6, errorCode: nil, cr2: nil))) // not modelled: #UD, never a silent no-op
        case .virtualization(let kind):
            exit(.virtualization(kind, nextRip: nextRip))
        }
    }

    static let gprRegisters: [uc_x86_reg] = [UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                              UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                                              UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
                                              UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15]

    // MARK: exceptions and memory

    /// Guest instructions retired before the one at `linear` in the current block (nil: not in it).
    func retired(before linear: UInt64) -> UInt64? {
        guard linear >= blockAddress, linear - blockAddress < 0x10000,
              let index = currentOffsets.firstIndex(of: UInt16(linear - blockAddress)) else { return nil }
        return blockClock &+ UInt64(index)
    }

    func onInterrupt(_ vector: UInt32) {
        engine.exceptionInFlight = true
        if let now = retired(before: engine.read(UC_X86_REG_RIP) &+ currentCSBase) { clock = now }
        // CR2 is only right inside the hook (Unicorn clobbers it afterwards).
        stopEngine(.interrupt(vector: UInt8(truncatingIfNeeded: vector), cr2: engine.read(UC_X86_REG_CR2)))
    }

    func onInvalidOpcode() -> Bool {
        engine.exceptionInFlight = true
        stopEngine(.invalidOpcode)
        return false
    }

    func onInvalidMemory(_ type: uc_mem_type, _ address: UInt64, _ size: Int32) -> Bool {
        let access: SimGuestAccess
        switch type {
        case UC_MEM_WRITE_UNMAPPED, UC_MEM_WRITE_PROT: access = .write
        case UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT: access = .execute
        default: access = .read
        }
        do {
            let before = mapped
            _ = try translate(address, access)
            _ = try translate(address &+ UInt64(max(size, 1) - 1), access) // an access may cross into the next page
            if mapped != before { return true } // now mapped with the right: Unicorn retries the access
            stopEngine(.broken(.engine(code: 0, what: "a memory fault on a mapped page at \(simHex(address))")))
        } catch .nested(let guestPhysical, let access) {
            if let now = retired(before: engine.read(UC_X86_REG_RIP) &+ currentCSBase) { clock = now }
            stopEngine(.memory(guestPhysical: guestPhysical, access: access))
        } catch .broken(let error) {
            stopEngine(.broken(error))
        } catch {
            stopEngine(.broken(.engine(code: 0, what: "a memory fault")))
        }
        return false
    }

    // MARK: capstone

    /// The lengths of the instructions at the start of `code` (Capstone), in order.
    func instructionLengths(_ code: UnsafeRawBufferPointer, address: UInt64, bits: Int) -> [UInt8] {
        guard let handle = capstone[bits], let base = code.baseAddress else { return [] }
        var lengths = [UInt8](repeating: 0, count: code.count)
        let n = lengths.withUnsafeMutableBufferPointer {
            cu_instruction_lengths(handle, base.assumingMemoryBound(to: UInt8.self), code.count, address, $0.baseAddress, code.count)
        }
        return Array(lengths.prefix(n))
    }
}
