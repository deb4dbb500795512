import KernelABI

/// Access to the running EC's UTCB (layout in KernelABI.UTCBLayout).
public struct UTCB<P: UserPlatform> {
    public let platform: P
    public let base: UInt64

    public init(platform: P, base: UInt64) {
        self.platform = platform
        self.base = base
    }

    // Wrapping arithmetic: the base is a mapped UTCB page and the index a word in it, so the sum cannot overflow;
    // the IPC path then carries no overflow checks.
    public func word(_ index: Int) -> UInt64 { platform.load64(base &+ UInt64(index) &* 8) }
    public func setWord(_ index: Int, _ value: UInt64) { platform.store64(base &+ UInt64(index) &* 8, value) }

    public var untypedCount: Int { UTCBLayout.untypedCount(word(UTCBLayout.countsWord)) }
    public var typedCount: Int { UTCBLayout.typedCount(word(UTCBLayout.countsWord)) }
    public var portalID: UInt64 { word(UTCBLayout.portalIDWord) }

    /// Untyped data word `i` of the message.
    public func data(_ i: Int) -> UInt64 { word(UTCBLayout.firstDataWord + i) }
    public func setData(_ i: Int, _ value: UInt64) { setWord(UTCBLayout.firstDataWord + i, value) }
    public func storeDataByte(_ i: Int, _ value: UInt8) {
        platform.store8(base + UInt64(UTCBLayout.firstDataWord * 8 + i), value)
    }

    /// Sets up a message of untyped words followed by typed items (CRD, destination hotspot). Inlined, so a
    /// literal message compiles to plain stores (the IPC fast path's callers build one per call).
    @inline(__always)
    public func setMessage(untyped: [UInt64], typed: [(CapabilityRange, UInt64)] = []) {
        for (i, w) in untyped.enumerated() { setData(i, w) }
        for (i, item) in typed.enumerated() {
            setData(untyped.count + 2 * i, item.0.word)
            setData(untyped.count + 2 * i + 1, item.1)
        }
        setWord(UTCBLayout.countsWord, UTCBLayout.counts(untyped: untyped.count, typed: typed.count))
    }

    /// Where delegated object capabilities and pages may land in this PD.
    public func setReceiveWindows(objects: CapabilityRange, memory: CapabilityRange) {
        setWord(UTCBLayout.objectWindowWord, objects.word)
        setWord(UTCBLayout.memoryWindowWord, memory.word)
    }
}
