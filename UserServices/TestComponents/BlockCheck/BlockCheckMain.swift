import BlockService
import KernelABI
import UserRuntime

/// The "blockcheck" test component (examples/block.toml, ImageTests.BlockImageTests): exercises the `block`
/// service end to end. It reads what an earlier boot left on the disk, asks for every kind of bad request, then
/// writes a pattern for this boot with two writes in flight, flushes, and reads both back (two reads in flight) and
/// compares. Every result is one `blockcheck:` line through `log`; the last is `blockcheck: done`.
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
    BlockCheck(platform: platform, log: log, block: BlockClient(utcb: utcb, portal: portal),
               buffer: info.heapBase + BlockCheck<P>.bufferFirstPage * AddressLayout.pageSize).run()
    _ = log.write("blockcheck: done\n")
    idle(platform)
}

struct BlockCheck<P: UserPlatform> {
    let platform: P
    let log: LogClient<P>
    let block: BlockClient<P>
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

    func run() {
        guard case .success(let disk) = block.info() else { return line("error: info failed") }
        line("disk: \(disk.sectors) sectors of \(disk.sectorSize) bytes, up to \(disk.maxInFlight) requests in flight")
        expectRefusal("before attach", BlockRequest(kind: .read, sector: 0, count: 1, offset: 0))
        switch block.attach(virtualPage: buffer >> AddressLayout.pageShift, order: Self.bufferOrder) {
        case .success(let pages): line("attached a buffer of \(pages) pages")
        case .failure(let e): return line("error: attach: \(e)")
        }
        // What the previous boot left.
        guard transfer([BlockRequest(kind: .read, sector: 0, count: 8, offset: 0)]) else { return }
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
                       label: "writes") else { return }
        guard transfer([BlockRequest(kind: .flush, sector: 0, count: 0, offset: 0)]) else { return }
        for w in 0..<UInt64(1024) { platform.store64(buffer + 8192 + w * 8, 0) }
        guard transfer([BlockRequest(kind: .read, sector: 0, count: 8, offset: 8192),
                        BlockRequest(kind: .read, sector: Self.secondBlockSector, count: 8, offset: 12288)],
                       label: "reads") else { return }
        if let bad = mismatch(at: 8192, seed: boot, first: true) ?? mismatch(at: 12288, seed: boot, first: false) {
            line("error: read back differs at byte \(bad)")
        } else {
            line("boot \(boot) pattern written, flushed and read back: match")
        }
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
