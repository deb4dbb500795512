import UserRuntime

/// One VM's state that outlives a single exit (a handler starts afresh at its portal entry for every exit), kept in
/// the VMM's heap region: where its RAM and image are, whether it stopped, its console line being assembled, the
/// test latch. All ECs of one VM use only its own block.
/// Bytes of one VM's control block in the heap region.
let vmControlBlockBytes: UInt64 = 4096

struct VMControlBlock<P: UserPlatform> {
    static var bytes: UInt64 { vmControlBlockBytes }
    static var lineCapacity: UInt64 { 160 }

    let platform: P
    let base: UInt64

    // Word offsets.
    private static var ramAddressWord: UInt64 { 0 }
    private static var ramSizeWord: UInt64 { 1 }
    private static var stoppedWord: UInt64 { 2 }
    private static var lineLengthWord: UInt64 { 3 }
    private static var latchWord: UInt64 { 4 }
    private static var nameLengthWord: UInt64 { 5 }
    private static var exitsWord: UInt64 { 6 }
    private static var entryRIPWord: UInt64 { 7 }
    private static var entryRSPWord: UInt64 { 8 }
    private static var entryModeWord: UInt64 { 9 }
    // Word offsets past the line buffer (bytes 192 ..< 352).
    private static var linuxWords: UInt64 { 64 }  // 64 ..< 74: the Linux entry (LinuxEntry.Word)
    private static var nextDeadlineWord: UInt64 { 74 }
    private static var patWord: UInt64 { 75 }
    private static var mtrrDefaultTypeWord: UInt64 { 76 }
    // Byte offsets, past the words above (and before the words from 64 on).
    private static var nameBytes: UInt64 { 128 }
    private static var lineBytes: UInt64 { 192 }

    private func word(_ i: UInt64) -> UInt64 { platform.load64(base + i * 8) }
    private func setWord(_ i: UInt64, _ v: UInt64) { platform.store64(base + i * 8, v) }

    var ramAddress: UInt64 { get { word(Self.ramAddressWord) } nonmutating set { setWord(Self.ramAddressWord, newValue) } }
    var ramSize: UInt64 { get { word(Self.ramSizeWord) } nonmutating set { setWord(Self.ramSizeWord, newValue) } }
    var stopped: Bool { get { word(Self.stoppedWord) != 0 } nonmutating set { setWord(Self.stoppedWord, newValue ? 1 : 0) } }
    /// The 32-bit test latch at ports 0xe0-0xe3 (TestDevice).
    var latch: UInt64 { get { word(Self.latchWord) } nonmutating set { setWord(Self.latchWord, newValue) } }
    var exits: UInt64 { get { word(Self.exitsWord) } nonmutating set { setWord(Self.exitsWord, newValue) } }
    /// Where the loaded image starts (the startup exit sets the vCPU there).
    var entryRIP: UInt64 { get { word(Self.entryRIPWord) } nonmutating set { setWord(Self.entryRIPWord, newValue) } }
    var entryRSP: UInt64 { get { word(Self.entryRSPWord) } nonmutating set { setWord(Self.entryRSPWord, newValue) } }
    /// 1: enter in 32-bit protected mode (Multiboot); 0: 64-bit mode.
    var entryProtectedMode: Bool {
        get { word(Self.entryModeWord) != 0 }
        nonmutating set { setWord(Self.entryModeWord, newValue ? 1 : 0) }
    }

    /// A Linux guest's entry state (rsi, control registers, GDT, selectors), `LinuxEntry.Word` `i`.
    func linuxEntry(_ i: UInt64) -> UInt64 { word(Self.linuxWords + i) }
    func setLinuxEntry(_ i: UInt64, _ value: UInt64) { setWord(Self.linuxWords + i, value) }
    /// The timestamp of the PC's next timer event (0: none): the main EC recalls the vCPU then (VMMMain.swift).
    var nextDeadline: UInt64 {
        get { word(Self.nextDeadlineWord) }
        nonmutating set { setWord(Self.nextDeadlineWord, newValue) }
    }
    /// IA32_PAT and MTRRdefType as the guest last wrote them (they have no effect under nested paging here).
    var pat: UInt64 { get { word(Self.patWord) } nonmutating set { setWord(Self.patWord, newValue) } }
    var mtrrDefaultType: UInt64 {
        get { word(Self.mtrrDefaultTypeWord) }
        nonmutating set { setWord(Self.mtrrDefaultTypeWord, newValue) }
    }

    var name: [UInt8] {
        get { (0..<min(word(Self.nameLengthWord), 32)).map { platform.load8(base + Self.nameBytes + $0) } }
        nonmutating set {
            let bytes = newValue.prefix(32)
            for (i, b) in bytes.enumerated() { platform.store8(base + Self.nameBytes + UInt64(i), b) }
            setWord(Self.nameLengthWord, UInt64(bytes.count))
        }
    }

    /// Appends a console byte; returns the finished line (without its newline) when the byte ends one, or the line
    /// so far when it is full (the byte then starts the next line). Carriage returns are dropped.
    func appendConsole(_ byte: UInt8) -> [UInt8]? {
        if byte == 13 { return nil }
        let length = word(Self.lineLengthWord)
        var finished: [UInt8]?
        if byte == 10 || length == Self.lineCapacity {
            finished = (0..<length).map { platform.load8(base + Self.lineBytes + $0) }
            setWord(Self.lineLengthWord, 0)
            if byte == 10 { return finished }
        }
        let at = word(Self.lineLengthWord)
        platform.store8(base + Self.lineBytes + at, byte)
        setWord(Self.lineLengthWord, at + 1)
        return finished
    }
}
