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
        for (page, mapping) in tlb.pages(asid: asid) { _ = mapInEngine(page, mapping) }
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
        guard let host = try? memory.hostPointer(page: mapping.hostPhysical) else {
            return .mappingBeyondRAM(guestPhysical: page, hostPhysical: mapping.hostPhysical)
        }
        if mapped[page] != nil { engine.unmap(guestPhysical: page) }
        let err = engine.map(guestPhysical: page, host: host, read: mapping.read, write: mapping.write, execute: mapping.execute)
        guard err == UC_ERR_OK else { return .engine(code: Int(err.rawValue), what: "mapping guest page \(simHex(page))") }
        mapped[page] = mapping
        hostPages[page] = host
        return nil
    }

    /// The nested translation of a guest-physical access, through the TLB (filled from the nested lookup on a miss).
    /// A cached entry that lacks the right is dropped and looked up again, as hardware re-walks after a fault.
    func translate(_ guestPhysical: UInt64, _ access: SimGuestAccess) throws(SimGuestFault) -> SimGuestNestedMapping {
        let page = guestPhysical & ~0xfff
        if let cached = tlb.lookup(asid: asid, page: page), cached.allows(access) { return cached }
        guard let mapping = nested(page), mapping.allows(access) else {
            throw .nested(guestPhysical: guestPhysical, access: access)
        }
        tlb.insert(asid: asid, page: page, mapping)
        if let error = mapInEngine(page, mapping) { throw .broken(error) }
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
