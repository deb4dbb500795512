/// Event injection through the guest's own tables (Unicorn delivers nothing itself): the real-mode IVT, 32-bit
/// protected-mode gates and long-mode gates with IST, stack switch through the TSS and error codes. A fault while
/// delivering is raised in its place or becomes #DF by the architectural table; a fault while delivering #DF is a
/// shutdown. A nested page fault or an intercepted fault while delivering leaves the event pending, so it is delivered
/// again on the next entry.
extension SimGuestCPU {
    private static let contributory: Set<UInt8> = [0, 10, 11, 12, 13]

    func inject(_ first: SimGuestEvent, _ state: inout SimGuestState) -> SimGuestExit? {
        var event = first
        while true {
            var attempt = state
            do {
                try deliver(event, &attempt)
                state = attempt
                state.pendingEvent = nil
                state.activity = .running
                return nil
            } catch let fault {
                guard case .exception(let vector, let errorCode, let cr2) = fault else {
                    if case .nested(let guestPhysical, let access) = fault {
                        state.pendingEvent = event
                        return .nestedPageFault(guestPhysical: guestPhysical, access: access)
                    }
                    if case .broken(let error) = fault { return .failedEntry(error) }
                    return .shutdown
                }
                if let cr2 { state.cr2 = cr2 }
                let delivering = event
                if event.type == .exception && event.vector == 8 { return .shutdown }
                let firstIsPF = event.type == .exception && event.vector == 14
                let firstContributory = event.type == .exception && Self.contributory.contains(event.vector)
                let second = Self.contributory.contains(vector)
                if (firstContributory && second) || (firstIsPF && (second || vector == 14)) {
                    event = SimGuestEvent(vector: 8, type: .exception, errorCode: 0)
                } else {
                    event = SimGuestEvent(vector: vector, type: .exception, errorCode: errorCode)
                }
                if controls.exceptionBitmap & (1 << UInt32(event.vector)) != 0 {
                    // The event that was being delivered stays pending (SVM's EXITINTINFO, re-injected on entry).
                    state.pendingEvent = delivering
                    return .exception(vector: event.vector, errorCode: event.errorCode, cr2: event.vector == 14 ? cr2 : nil)
                }
                clock &+= 1
            }
        }
    }

    // MARK: one delivery

    private func deliver(_ event: SimGuestEvent, _ state: inout SimGuestState) throws(SimGuestFault) {
        let external: UInt32 = event.type == .externalInterrupt || event.type == .nmi ? 1 : 0
        let vector = UInt64(event.vector)
        let gateError = UInt32(vector) * 8 + 2 + external
        if state.cr0 & 1 == 0 {
            try deliverReal(event, &state)
            return
        }
        let long = state.longModeActive
        let gateSize: UInt64 = long ? 16 : 8
        guard vector * gateSize + gateSize - 1 <= UInt64(state.idtr.limit) else { throw .gp(gateError) }
        let gate = try read(state.idtr.base &+ vector * gateSize, Int(gateSize), state)
        let type = gate[5] & 0x1f
        let gateDPL = gate[5] >> 5 & 3
        guard type == 0x0e || type == 0x0f else { throw .gp(gateError) } // task gates and 16-bit gates: not modelled
        if event.type == .softwareInterrupt && gateDPL < state.cpl { throw .gp(gateError) }
        guard gate[5] & 0x80 != 0 else { throw .exception(vector: 11, errorCode: gateError, cr2: nil) }
        let selector = UInt16(gate[2]) | UInt16(gate[3]) << 8
        var offset = UInt64(gate[0]) | UInt64(gate[1]) << 8 | UInt64(gate[6]) << 16 | UInt64(gate[7]) << 24
        if long { offset |= UInt64(littleEndian: gate[8..<16].enumerated().reduce(0) { $0 | UInt64($1.1) << (8 * $1.0) }) << 32 }
        let selectorError = UInt32(selector & 0xfffc) + external
        guard selector & 0xfffc != 0 else { throw .gp(external) }
        var cs = try descriptor(selector, state, error: selectorError)
        guard cs.attributes & 0x18 == 0x18 else { throw .gp(selectorError) }
        guard cs.present else { throw .exception(vector: 11, errorCode: selectorError, cr2: nil) }
        if long && (!cs.longMode || cs.defaultBig) { throw .gp(selectorError) }
        let conforming = cs.attributes & 0x4 != 0
        let newCPL = conforming ? state.cpl : cs.dpl
        guard newCPL <= state.cpl else { throw .gp(selectorError) }
        cs.selector = (selector & 0xfffc) | UInt16(newCPL)

        let oldSS = state.ss, oldRSP = state.rsp, oldFlags = state.rflags
        var ss = state.ss
        var rsp = state.rsp
        var frame: [UInt64] = []
        if long {
            let ist = UInt64(gate[4] & 7)
            if ist != 0 {
                rsp = try read64(state.tr.base &+ 0x24 &+ 8 * (ist - 1), state)
            } else if newCPL < state.cpl {
                rsp = try read64(state.tr.base &+ 4 &+ 8 * UInt64(newCPL), state)
            }
            if newCPL < state.cpl {
                ss = SimGuestSegment(selector: UInt16(newCPL), base: 0, limit: 0xffff_ffff, attributes: 0xc93 | UInt16(newCPL) << 5)
            }
            rsp &= ~0xf
            frame = [UInt64(oldSS.selector), oldRSP, oldFlags, UInt64(state.cs.selector), state.rip]
        } else {
            if newCPL < state.cpl {
                let base = state.tr.base &+ 4 &+ 8 * UInt64(newCPL)
                let stack = try read(base, 6, state)
                rsp = UInt64(stack[0]) | UInt64(stack[1]) << 8 | UInt64(stack[2]) << 16 | UInt64(stack[3]) << 24
                let ssSelector = UInt16(stack[4]) | UInt16(stack[5]) << 8
                ss = try descriptor(ssSelector, state, error: UInt32(ssSelector & 0xfffc))
                ss.selector = ssSelector
                frame = [UInt64(oldSS.selector), oldRSP & 0xffff_ffff]
            }
            frame += [oldFlags & 0xffff_ffff, UInt64(state.cs.selector), state.rip & 0xffff_ffff]
        }
        if let errorCode = event.errorCode { frame.append(UInt64(errorCode)) }
        let width: UInt64 = long ? 8 : 4
        for value in frame {
            rsp = long ? rsp &- 8 : (rsp &- 4) & 0xffff_ffff
            try write(ss.base &+ rsp, value, bytes: Int(width), cpl: newCPL, state)
        }
        state.cs = cs
        state.ss = ss
        state.rsp = ss.defaultBig || long ? rsp : (state.rsp & ~0xffff) | (rsp & 0xffff)
        state.rip = offset
        var flags = state.rflags & ~UInt64(0x0001_4100 | 0x4000 | 0x20000) // TF, RF, NT, VM
        if type == 0x0e { flags &= ~0x200 }
        state.rflags = flags
        state.interruptShadow = false
    }

    private func deliverReal(_ event: SimGuestEvent, _ state: inout SimGuestState) throws(SimGuestFault) {
        let vector = UInt64(event.vector)
        guard vector * 4 + 3 <= UInt64(state.idtr.limit) else { throw .gp(0) }
        let entry = try read(state.idtr.base &+ vector * 4, 4, state)
        var sp = state.rsp & 0xffff
        for value in [state.rflags & 0xffff, UInt64(state.cs.selector), state.rip & 0xffff] {
            sp = (sp &- 2) & 0xffff
            try write(state.ss.base &+ sp, value, bytes: 2, cpl: 0, state)
        }
        state.rsp = (state.rsp & ~0xffff) | sp
        state.cs = .real(UInt16(entry[2]) | UInt16(entry[3]) << 8, code: true)
        state.rip = UInt64(entry[0]) | UInt64(entry[1]) << 8
        state.rflags &= ~UInt64(0x200 | 0x100 | 0x40000) // IF, TF, AC
        state.interruptShadow = false
    }

    // MARK: descriptor tables

    /// The segment a selector names in the GDT or LDT (8-byte code/data descriptors).
    func descriptor(_ selector: UInt16, _ state: SimGuestState, error: UInt32) throws(SimGuestFault) -> SimGuestSegment {
        let table = selector & 4 != 0 ? SimGuestDescriptorTable(base: state.ldtr.base, limit: UInt16(truncatingIfNeeded: state.ldtr.limit)) : state.gdtr
        let index = UInt64(selector & 0xfff8)
        guard index + 7 <= UInt64(table.limit) else { throw .gp(error) }
        let d = try read(table.base &+ index, 8, state)
        var limit = UInt32(d[0]) | UInt32(d[1]) << 8 | UInt32(d[6] & 0xf) << 16
        if d[6] & 0x80 != 0 { limit = limit << 12 | 0xfff }
        let base = UInt64(d[2]) | UInt64(d[3]) << 8 | UInt64(d[4]) << 16 | UInt64(d[7]) << 24
        return SimGuestSegment(selector: selector, base: base, limit: limit, attributes: UInt16(d[5]) | UInt16(d[6] & 0xf0) << 4)
    }

    // MARK: guest-linear memory, as the CPU accesses it while delivering (supervisor, through both translations)

    func read(_ linear: UInt64, _ count: Int, _ state: SimGuestState) throws(SimGuestFault) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        let walk = walker(state)
        var address = linear
        while bytes.count < count {
            let chunk = min(count - bytes.count, Int(0x1000 - (address & 0xfff)))
            let pointer = try hostPointer(try walk.translate(address, access: .read, user: false), .read)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: chunk))
            address &+= UInt64(chunk)
        }
        return bytes
    }

    func read64(_ linear: UInt64, _ state: SimGuestState) throws(SimGuestFault) -> UInt64 {
        try read(linear, 8, state).enumerated().reduce(0) { $0 | UInt64($1.1) << (8 * $1.0) }
    }

    func write(_ linear: UInt64, _ value: UInt64, bytes: Int, cpl: UInt8, _ state: SimGuestState) throws(SimGuestFault) {
        var writing = state
        writing.ss.attributes = (writing.ss.attributes & ~0x60) | UInt16(cpl) << 5
        let walk = walker(writing)
        // Translate first (one walk per page), so a fault leaves memory untouched.
        var targets: [UnsafeMutableRawPointer] = []
        var i = 0
        while i < bytes {
            let address = linear &+ UInt64(i)
            let chunk = min(bytes - i, Int(0x1000 - (address & 0xfff)))
            let pointer = try hostPointer(try walk.translate(address, access: .write, user: false), .write)
            for j in 0..<chunk { targets.append(pointer + j) }
            i += chunk
        }
        for (i, target) in targets.enumerated() { target.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * i)), as: UInt8.self) }
    }
}
