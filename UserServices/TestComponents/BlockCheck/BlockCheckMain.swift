import BlockService
import KernelABI
import UserRuntime

/// The "blockcheck" test component (examples/block.toml, ImageTests.BlockImageTests): exercises the `block`
/// service end to end. It reads what an earlier boot left on the disk, asks for every kind of bad request, then
/// writes a pattern for this boot with two writes in flight, flushes, and reads both back (two reads in flight) and
/// compares; then writes eight more blocks with up to four in flight and reads them all back. Everything goes
/// through a `BlockSession`, so a driver that dies on the way (the restart tests kill it) costs a reconnection and
/// the resubmission of what was not acknowledged, and nothing acknowledged may be missing at the end. Every result is
/// one `blockcheck:` line through `log`; the last is `blockcheck: done`.
public func blockCheckMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let logPortal = info.portal(forService: "log") else {
        _ = platform.load64(0) // no way to speak: the root reports the fault
        return
    }
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    let log = LogClient(utcb: utcb, portal: logPortal)
    guard let portal = info.portal(forService: "block") else {
        _ = log.write("blockcheck: error: the manifest routes no block service\n")
        return idle(platform)
    }
    guard info.heapSize >= BlockCheck<P>.heapPages * AddressLayout.pageSize else {
        _ = log.write("blockcheck: error: needs \(BlockCheck<P>.heapPages) heap pages\n")
        return idle(platform)
    }
    let buffer = info.heapBase + BlockCheck<P>.bufferFirstPage * AddressLayout.pageSize
    let session = BlockSession(client: BlockClient(utcb: utcb, portal: portal), bufferPage: buffer >> AddressLayout.pageShift,
                               bufferOrder: BlockCheck<P>.bufferOrder, sleepSM: ComponentSelectors.firstFree + 1,
                               ticksPerMillisecond: info.ticksPerMillisecond)
    let check = BlockCheck(platform: platform, log: log, block: session, buffer: buffer)
    if check.run() { check.runMany() }
    // Whether the device's interrupts (MSI-X or INTx) woke the driver, or it had to poll.
    if case .success(let s) = session.client.statistics() {
        check.line("the driver saw \(s.completions) completions, \(s.polled) of them only by polling")
    }
    if session.reconnections > 0 {
        check.line("the block service came back \(session.reconnections) time(s); \(session.resubmitted) request(s) submitted again")
    }
    _ = log.write("blockcheck: done\n")
    idle(platform)
}

struct BlockCheck<P: UserPlatform> {
    let platform: P
    let log: LogClient<P>
    let block: BlockSession<P>
    /// The delegated buffer: `bufferPages` pages of the heap.
    let buffer: UInt64

    static var heapPages: UInt64 { 32 }
    static var bufferFirstPage: UInt64 { 16 }
    static var bufferOrder: UInt64 { 4 }
    static var bufferPages: UInt64 { 1 << bufferOrder }
    /// "BLKCHECK": the first word of sector 0 once a boot wrote its pattern; the second word is that boot's number.
    static var magic: UInt64 { 0x4b43_4548_434b_4c42 }
    /// The two 4 KiB blocks written: at sector 0 and at sector 64.
    static var secondBlockSector: UInt64 { 64 }

    func line(_ text: String) { _ = log.write("blockcheck: " + text + "\n") }

    /// The first part; false when it could not go on.
    @discardableResult
    func run() -> Bool {
        let disk: (sectors: UInt64, sectorSize: UInt64, maxInFlight: UInt64)
        switch block.info() {
        case .success(let d): disk = d
        case .failure(let e): line("error: info: \(e)"); return false
        }
        line("disk: \(disk.sectors) sectors of \(disk.sectorSize) bytes, up to \(disk.maxInFlight) requests in flight")
        expectRefusal("before attach", BlockRequest(kind: .read, sector: 0, count: 1, offset: 0))
        switch block.attach() {
        case .success(let pages): line("attached a buffer of \(pages) pages")
        case .failure(let e): line("error: attach: \(e)"); return false
        }
        // What the previous boot left.
        guard transfer([BlockRequest(kind: .read, sector: 0, count: 8, offset: 0)]) else { return false }
        let previous = platform.load64(buffer) == Self.magic ? platform.load64(buffer + 8) : 0
        line(previous == 0 ? "no pattern on the disk yet" : "found the pattern of boot \(previous)")
        if previous != 0, let bad = mismatch(at: 0, seed: previous, first: true) {
            line("error: the pattern of boot \(previous) differs at byte \(bad)")
        }

        // Bad requests: each refused with its reason, nothing reaches the device.
        expectRefusal("past the end", BlockRequest(kind: .read, sector: disk.sectors - 1, count: 2, offset: 0))
        expectRefusal("zero length", BlockRequest(kind: .write, sector: 8, count: 0, offset: 0))
        expectRefusal("misaligned", BlockRequest(kind: .read, sector: 8, count: 1, offset: 100))
        expectRefusal("buffer not held", BlockRequest(kind: .read, sector: 8, count: 16,
                                                      offset: (Self.bufferPages - 1) * AddressLayout.pageSize))
        if case .success(let tag) = block.submit(BlockRequest(kind: .write, sector: 200, count: 8, offset: 0)) {
            expectRefusal("overlapping", BlockRequest(kind: .read, sector: 204, count: 8, offset: 8192))
            if case .failure(let e) = block.wait(tag) { line("error: waiting for the write at 200: \(e)") }
        } else {
            line("error: the write at sector 200 was refused")
        }
        if case .failure(let e) = block.wait(0x1234_5600) { line("unknown tag: refused: \(e)") } else {
            line("error: unknown tag: accepted")
        }

        // This boot's pattern: two writes in flight, a flush, two reads in flight, compare.
        let boot = previous + 1
        fill(at: 0, seed: boot, first: true)
        fill(at: 4096, seed: boot, first: false)
        guard transfer([BlockRequest(kind: .write, sector: 0, count: 8, offset: 0),
                        BlockRequest(kind: .write, sector: Self.secondBlockSector, count: 8, offset: 4096)],
                       label: "writes") else { return false }
        guard transfer([BlockRequest(kind: .flush, sector: 0, count: 0, offset: 0)]) else { return false }
        for w in 0..<UInt64(1024) { platform.store64(buffer + 8192 + w * 8, 0) }
        guard transfer([BlockRequest(kind: .read, sector: 0, count: 8, offset: 8192),
                        BlockRequest(kind: .read, sector: Self.secondBlockSector, count: 8, offset: 12288)],
                       label: "reads") else { return false }
        if let bad = mismatch(at: 8192, seed: boot, first: true) ?? mismatch(at: 12288, seed: boot, first: false) {
            line("error: read back differs at byte \(bad)")
            return false
        }
        line("boot \(boot) pattern written, flushed and read back: match")
        return true
    }

    /// Eight 4 KiB blocks from `manyFirstSector` on, from buffer pages 4 to 11, up to four writes in flight (each
    /// page left alone until its write is acknowledged); then all read back, four at a time, into pages 12 to 15.
    static var manyFirstSector: UInt64 { BlockCheckPattern.manyFirstSector }
    static var manyBlocks: UInt64 { BlockCheckPattern.manyBlocks }
    static func manySeed(_ block: UInt64) -> UInt64 { BlockCheckPattern.manySeed(block) }

    func runMany() {
        var waiting: [(block: UInt64, tag: UInt64)] = []
        var acknowledged: UInt64 = 0
        func waitOldest() -> Bool {
            let (b, tag) = waiting.removeFirst()
            if case .failure(let e) = block.wait(tag) { line("error: write of block \(b): \(e)"); return false }
            acknowledged += 1
            return true
        }
        for b in 0..<Self.manyBlocks {
            fill(at: (4 + b) * 4096, seed: Self.manySeed(b), first: false)
            if waiting.count == 4, !waitOldest() { return }
            let request = BlockRequest(kind: .write, sector: Self.manyFirstSector + 8 * b, count: 8, offset: (4 + b) * 4096)
            switch block.submit(request) {
            case .success(let tag): waiting.append((b, tag))
            case .failure(let e): return line("error: submitting the write of block \(b): \(e)")
            }
        }
        while !waiting.isEmpty { if !waitOldest() { return } }
        line("\(acknowledged) writes acknowledged, up to 4 in flight")
        for batch in stride(from: UInt64(0), to: Self.manyBlocks, by: 4) {
            for w in 0..<UInt64(2048) { platform.store64(buffer + 12 * 4096 + w * 8, 0) }
            let reads = (0..<UInt64(4)).map {
                BlockRequest(kind: .read, sector: Self.manyFirstSector + 8 * (batch + $0), count: 8, offset: (12 + $0) * 4096)
            }
            guard transfer(reads) else { return }
            for k in 0..<UInt64(4) {
                if let bad = mismatch(at: (12 + k) * 4096, seed: Self.manySeed(batch + k), first: false) {
                    return line("error: block \(batch + k) read back differs at byte \(bad)")
                }
            }
        }
        line("\(Self.manyBlocks) blocks read back: match")
    }

    /// Submits all of `requests` before waiting for any; false (after a line) when one fails.
    func transfer(_ requests: [BlockRequest], label: String? = nil) -> Bool {
        var tags: [UInt64] = []
        for r in requests {
            switch block.submit(r) {
            case .success(let tag): tags.append(tag)
            case .failure(let e): line("error: submitting \(r.kind) at sector \(r.sector): \(e)"); return false
            }
        }
        if let label { line("\(tags.count) \(label) in flight") }
        for (r, tag) in zip(requests, tags) {
            if case .failure(let e) = block.wait(tag) { line("error: \(r.kind) at sector \(r.sector): \(e)"); return false }
        }
        return true
    }

    func expectRefusal(_ what: String, _ request: BlockRequest) {
        switch block.submit(request) {
        case .failure(let e): line("\(what): refused: \(e)")
        case .success(let tag):
            line("error: \(what): accepted")
            _ = block.wait(tag)
        }
    }

    static func byte(_ i: UInt64, seed: UInt64, first: Bool) -> UInt8 { BlockCheckPattern.byte(i, seed: seed, first: first) }

    func fill(at offset: UInt64, seed: UInt64, first: Bool) {
        for w in 0..<UInt64(512) {
            var word: UInt64 = 0
            for b in 0..<UInt64(8) { word |= UInt64(Self.byte(w * 8 + b, seed: seed, first: first)) << (8 * b) }
            platform.store64(buffer + offset + w * 8, word)
        }
        if first {
            platform.store64(buffer + offset, Self.magic)
            platform.store64(buffer + offset + 8, seed)
        }
    }

    func mismatch(at offset: UInt64, seed: UInt64, first: Bool) -> UInt64? {
        for i in 0..<UInt64(4096) {
            let expected: UInt8 = first && i < 16 ? UInt8(truncatingIfNeeded: (i < 8 ? Self.magic : seed) >> (8 * (i % 8)))
                : Self.byte(i, seed: seed, first: first)
            if platform.load8(buffer + offset + i) != expected { return i }
        }
        return nil
    }
}

/// What blockcheck writes, for the tests that look at the disk afterwards.
public enum BlockCheckPattern {
    /// The many-block part: `manyBlocks` blocks of 4 KiB from sector `manyFirstSector`, block b with seed
    /// `manySeed(b)` (not first).
    public static let manyFirstSector: UInt64 = 512
    public static let manyBlocks: UInt64 = 8
    public static func manySeed(_ block: UInt64) -> UInt64 { 1000 + block }

    /// Byte i of a 4 KiB block: (i * 7 + seed * 13 + (first ? 0 : 101)) & 0xff (the first block begins with the
    /// magic "BLKCHECK" and the boot number instead).
    public static func byte(_ i: UInt64, seed: UInt64, first: Bool) -> UInt8 {
        UInt8(truncatingIfNeeded: i &* 7 &+ seed &* 13 &+ (first ? 0 : 101))
    }
}

extension BlockRequestKind: CustomStringConvertible {
    public var description: String {
        switch self {
        case .read: return "read"
        case .write: return "write"
        case .flush: return "flush"
        }
    }
}

func idle<P: UserPlatform>(_ platform: P) {
    let sys = SystemCalls(platform)
    _ = sys.createSM(ComponentSelectors.firstFree, count: 0)
    while sys.down(sm: ComponentSelectors.firstFree) == .success {}
}
