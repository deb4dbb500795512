import CUnicorn

/// Guest-physical memory as the vCPU reaches it: the tagged TLB in front of the caller's nested lookup, and the
/// engine's mappings, which always mirror the TLB entries of the ASID that runs (host pages mapped in place).
extension SimGuestCPU {
    // MARK: TLB

    /// Invalidates the cached nested translations of one ASID (after the hypervisor changed its nested tables).
    public func flush(asid: UInt32) {
        for page in tlb.flush(asid: asid) where loadedASID == asid {
            engine.unmap(guestPhysical: page)
            mapped[page] = nil
            hostPages[page] = nil
        }
        forgetBlocks()
    }

    /// Invalidates every ASID's cached translations.
    public func flushAll() {
        tlb.flushAll()
        for page in mapped.keys { engine.unmap(guestPhysical: page) }
        mapped = [:]
        hostPages = [:]
        forgetBlocks()
    }

    /// How many guest pages the TLB holds for an ASID (for tests and statistics).
    public func cachedTranslations(asid: UInt32) -> Int { tlb.count(asid: asid) }

    func switchASID(_ asid: UInt32) {
        guard loadedASID != asid else { return }
        for page in mapped.keys { engine.unmap(guestPhysical: page) }
        mapped = [:]
        hostPages = [:]
        loadedASID = asid
        // Map the ASID's cached pages back in runs (contiguous in guest and host memory, same rights).
        var run: [(page: UInt64, mapping: SimGuestNestedMapping)] = []
        for (page, mapping) in tlb.pages(asid: asid).sorted(by: { $0.key < $1.key }) {
            if let last = run.last, last.page + 0x1000 == page, last.mapping.hostPhysical + 0x1000 == mapping.hostPhysical,
               last.mapping.read == mapping.read, last.mapping.write == mapping.write, last.mapping.execute == mapping.execute {
                run.append((page, mapping))
            } else {
                _ = mapRun(run)
                run = [(page, mapping)]
            }
        }
        _ = mapRun(run)
        forgetBlocks()
    }

    /// After a flush or an address-space switch: rescan blocks, and reload the whole context so the engine's own
    /// (guest-linear) TLB is dropped too.
    func forgetBlocks() {
        blocks = [:]
        currentOffsets = []
        blocksStale = false
        engine.invalidateHeldState()
    }

    /// Maps one guest page into the engine with the mapping's rights (host memory shared, not copied).
    func mapInEngine(_ page: UInt64, _ mapping: SimGuestNestedMapping) -> SimGuestEntryError? {
        mapRun([(page, mapping)])
    }

    /// Maps guest pages that are contiguous in guest and host memory, with the same rights, as one engine region
    /// (Unicorn's memory map grows quadratically in its number of regions).
    func mapRun(_ run: [(page: UInt64, mapping: SimGuestNestedMapping)]) -> SimGuestEntryError? {
        guard let first = run.first else { return nil }
        for (page, mapping) in run where (try? memory.hostPointer(page: mapping.hostPhysical)) == nil {
            return .mappingBeyondRAM(guestPhysical: page, hostPhysical: mapping.hostPhysical)
        }
        let host = try! memory.hostPointer(page: first.mapping.hostPhysical) // checked above
        for (page, _) in run where mapped[page] != nil { engine.unmap(guestPhysical: page) }
        let m = first.mapping
        let err = engine.map(guestPhysical: first.page, size: UInt64(run.count) * 0x1000, host: host,
                             read: m.read, write: m.write, execute: m.execute)
        guard err == UC_ERR_OK else { return .engine(code: Int(err.rawValue), what: "mapping guest page \(simHex(first.page))") }
        for (i, entry) in run.enumerated() {
            mapped[entry.page] = entry.mapping
            hostPages[entry.page] = host + i * 0x1000
        }
        return nil
    }

    /// A TLB miss fills the missing page and, as hardware may, the neighbours in its aligned window that the nested
    /// tables map contiguously with the same rights (one engine region instead of one per page).
    static var fillWindow: UInt64 { 64 }

    /// The nested translation of a guest-physical access, through the TLB (filled from the nested lookup on a miss).
    /// A cached entry that lacks the right is dropped and looked up again, as hardware re-walks after a fault.
    func translate(_ guestPhysical: UInt64, _ access: SimGuestAccess) throws(SimGuestFault) -> SimGuestNestedMapping {
        let page = guestPhysical & ~0xfff
        if let cached = tlb.lookup(asid: asid, page: page), cached.allows(access) { return cached }
        guard let mapping = nested(page), mapping.allows(access) else {
            throw .nested(guestPhysical: guestPhysical, access: access)
        }
        var run: [(page: UInt64, mapping: SimGuestNestedMapping)] = [(page, mapping)]
        let window = Self.fillWindow * 0x1000
        let start = page & ~(window - 1)
        func neighbour(_ candidate: UInt64, host: UInt64) -> SimGuestNestedMapping? {
            guard tlb.lookup(asid: asid, page: candidate) == nil, mapped[candidate] == nil, let m = nested(candidate),
                  m.read == mapping.read, m.write == mapping.write, m.execute == mapping.execute, m.hostPhysical == host
            else { return nil }
            return m
        }
        while let low = run.first, low.page > start, low.mapping.hostPhysical >= 0x1000,
              let m = neighbour(low.page - 0x1000, host: low.mapping.hostPhysical - 0x1000) {
            run.insert((low.page - 0x1000, m), at: 0)
        }
        while let high = run.last, high.page + 0x1000 < start + window,
              let m = neighbour(high.page + 0x1000, host: high.mapping.hostPhysical + 0x1000) {
            run.append((high.page + 0x1000, m))
        }
        for entry in run { tlb.insert(asid: asid, page: entry.page, entry.mapping) }
        if let error = mapRun(run) { throw .broken(error) }
        return mapping
    }

    func hostPointer(_ guestPhysical: UInt64, _ access: SimGuestAccess) throws(SimGuestFault) -> UnsafeMutableRawPointer {
        let page = guestPhysical & ~0xfff
        if let cached = mapped[page], cached.allows(access), let host = hostPages[page] {
            return host + Int(guestPhysical & 0xfff)
        }
        _ = try translate(guestPhysical, access)
        guard let host = hostPages[page] else { throw .broken(.engine(code: 0, what: "an unmapped page \(simHex(page))")) }
        return host + Int(guestPhysical & 0xfff)
    }
}
