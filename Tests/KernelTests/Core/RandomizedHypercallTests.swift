import KernelABI
import Sim
import Foundation
import XCTest
@testable import Kernel

/// Thousands of seeded random hypercall sequences from several hostile PDs. Each sequence: root creates a landlord
/// PD that builds three hostile PDs (threads, handlers, portals, semaphores, memory ranges up to 2 MiB superpages,
/// port ranges, capabilities to each other); then random hypercalls (plausible and garbage arguments: ranges of
/// every order, partial delegations and revocations that split; VM PDs, vCPUs, guest memory, exit portals with
/// transfer descriptors, vCPUs running whatever their memory holds), faults and interrupts hit them, with the kernel
/// invariants checked after every step; finally root revokes the landlord and everything must be gone.
///
/// Soak mode: `HV_SOAK_HYPERCALLS=N` (tools/soak) runs batches until at least N random hypercalls were made and
/// prints the figures; without it the suite's bounded run below.
final class RandomizedHypercallTests: XCTestCase {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }
    }

    /// Batches of sequences share one booted machine (booting costs more than a sequence); each sequence starts
    /// from the same baseline, which it must return to, and the checks after each step are incremental (see
    /// `invariantViolations`), with one full check per batch.
    static let batchCount: UInt64 = 10
    static let sequencesPerBatch: UInt64 = 250
    /// The landlord's memory: a 4 MiB block of the root's window (so 2 MiB superpages occur), at this landlord
    /// virtual page number (4 MiB aligned).
    static let landlordMemory: UInt64 = 0xa0_0000_0
    static let memoryOrder: UInt64 = 10

    func testRandomHypercallSequencesKeepTheInvariants() throws {
        let soakTarget = ProcessInfo.processInfo.environment["HV_SOAK_HYPERCALLS"].flatMap { UInt64($0) }
        let start = Date()
        var sequences: UInt64 = 0, hypercalls: UInt64 = 0, splits: UInt64 = 0
        var batch: UInt64 = 0
        while soakTarget.map({ hypercalls < $0 }) ?? (batch < Self.batchCount) {
            batch += 1
            let h = try KernelHarness(memorySize: 64 << 20)
            let block = try XCTUnwrap(h.windowBlock(order: Self.memoryOrder))
            let baseline = Baseline(h, block: block)
            XCTAssertEqual(h.kernel.invariantViolations(), [], "batch \(batch) after boot")
            for sequence in 0..<Self.sequencesPerBatch {
                let seed = batch << 32 | sequence
                let (ok, pieces) = runSequence(h, seed: seed, block: block)
                guard ok else { return }
                splits += pieces
                sequences += 1
                let differences = baseline.differences(h)
                XCTAssertEqual(differences, [], "seed \(hex(seed)): not back to the baseline after revoking everything")
                if !differences.isEmpty { return }
            }
            hypercalls += h.kernel.statistics.hypercalls
            XCTAssertEqual(h.kernel.invariantViolations(), [], "batch \(batch): full check after its sequences")
        }
        let seconds = Date().timeIntervalSince(start)
        print("randomized hypercalls: \(hypercalls) hypercalls in \(sequences) sequences (\(batch) machines), "
              + "\(splits) range pieces seen, invariants checked after every step, 0 violations, "
              + "\(String(format: "%.1f", seconds)) s (\(Int(Double(hypercalls) / max(seconds, 0.001))) hypercalls/s)")
        if let soakTarget { XCTAssertGreaterThanOrEqual(hypercalls, soakTarget) }
        XCTAssertEqual(sequences, batch * Self.sequencesPerBatch)
        XCTAssertGreaterThan(splits, 0, "the sequences split ranges")
    }

    /// What the machine looks like between sequences: the root PD alone, holding what it held at boot with
    /// nothing derived from it, and nothing queued, waiting or allocated beyond that.
    struct Baseline {
        let quotaUsed: UInt64
        let allocatedFrames: UInt64
        let tableFrames: [UInt64]
        let objects: Int, memory: Int, ports: Int
        let block: UInt64

        init(_ h: KernelHarness, block: UInt64) {
            self.block = block
            quotaUsed = h.rootPD.quotaUsed
            allocatedFrames = h.kernel.frames.allocatedCount
            tableFrames = h.rootPD.tableFrames
            objects = h.rootPD.space.objects.count
            memory = h.rootPD.space.memory.count
            ports = h.rootPD.space.io.count
        }

        func differences(_ h: KernelHarness) -> [String] {
            var found: [String] = []
            let root = h.rootPD
            if root.quotaUsed != quotaUsed { found.append("root quota used \(root.quotaUsed), was \(quotaUsed)") }
            if h.kernel.frames.allocatedCount != allocatedFrames {
                found.append("\(h.kernel.frames.allocatedCount) pool frames allocated, was \(allocatedFrames)")
            }
            if root.tableFrames != tableFrames { found.append("root page-table frames changed") }
            if h.kernel.protectionDomains.count != 1 { found.append("\(h.kernel.protectionDomains.count) PDs") }
            if h.kernel.executionContexts.count != 1 { found.append("\(h.kernel.executionContexts.count) ECs") }
            if h.kernel.scheduler.queued.count != 1 { found.append("\(h.kernel.scheduler.queued.count) SCs queued") }
            if !h.kernel.timeouts.isEmpty { found.append("\(h.kernel.timeouts.count) timeouts pending") }
            if root.space.objects.count != objects || root.space.memory.count != memory || root.space.io.count != ports {
                found.append("root holds \(root.space.objects.count)/\(root.space.memory.count)/\(root.space.io.count) "
                             + "object/memory/I/O capabilities, was \(objects)/\(memory)/\(ports)")
            }
            // What the sequence delegated from: nothing may still derive from it.
            let delegated = [root.space.covering(.memory, block), root.space.covering(.io, 0x3f0)].compactMap { $0 }
            if delegated.contains(where: { !$0.children.isEmpty }) { found.append("root capabilities still have children") }
            return found
        }
    }

    /// Returns false (after failing the test, with the seed) when an invariant broke; and how many memory and I/O
    /// capabilities of the hostile PDs were pieces of a split (order below what they were given).
    private func runSequence(_ h: KernelHarness, seed: UInt64, block: UInt64) -> (Bool, UInt64) {
        var rng = SplitMix(state: seed)
        let root = h.rootEC
        let landlordSel: UInt64 = 500
        // The landlord: a PD with 16 window pages, 16 ports, and capabilities it builds the hostile PDs with.
        guard h.status(root, .createPD, landlordSel, 150, Permissions.all) == .success,
              h.status(root, .createEC, landlordSel + 1, landlordSel, 0x90_0000_0000, 0, 0, ECFlags.global) == .success,
              h.status(root, .createSC, landlordSel + 2, landlordSel + 1, 50, 20) == .success else {
            XCTFail("seed \(hex(seed)): setup failed")
            return (false, 0)
        }
        let landlord = h.ec(h.rootPD, landlordSel + 1)
        let landlordPD = h.pd(h.rootPD, landlordSel)
        h.status(root, .delegate, landlordSel, CapabilityRange(kind: .object, base: landlordSel, permissions: Permissions.all).word, 1)
        h.status(root, .delegate, landlordSel, CapabilityRange(kind: .memory, base: block, order: Self.memoryOrder, permissions: 7).word, Self.landlordMemory)
        h.status(root, .delegate, landlordSel, CapabilityRange(kind: .io, base: 0x3f0, order: 4, permissions: 1).word, 0x3f0)
        var actors: [ExecutionContext] = [landlord]
        // Three hostile PDs at landlord selectors 10, 20, 30: PD, global EC, SC, local EC, portal, semaphore.
        for i in UInt64(1)...3 {
            let s = i * 10
            h.status(landlord, .createPD, s, 30, Permissions.all)
            h.status(landlord, .createEC, s + 1, s, 0x90_0000_0000, 0, 0, ECFlags.make(global: true, eventBase: 64))
            h.status(landlord, .createSC, s + 2, s + 1, 10 + i, 5)
            h.status(landlord, .createEC, s + 3, s, 0x90_0001_0000, 0x90_2000_0000, 0, 0)
            h.status(landlord, .createPT, s + 4, s + 3, 0x80_0000_0000, i)
            h.status(landlord, .createSM, s + 5, rng.below(3))
            // Each hostile PD gets: itself, everything the landlord made at 10..35, some memory and ports.
            h.status(landlord, .delegate, s, CapabilityRange(kind: .object, base: 0, order: 6, permissions: rng.below(32)).word, 0)
            // PD 1 gets a 2 MiB superpage, PDs 2 and 3 smaller ranges: all inside the landlord's 4 MiB.
            let (offset, order): (UInt64, UInt64) = [(0, 9), (512, 4), (528, 2)][Int(i - 1)]
            h.status(landlord, .delegate, s, CapabilityRange(kind: .memory, base: Self.landlordMemory + offset, order: order, permissions: 7).word, Self.landlordMemory)
            h.status(landlord, .delegate, s, CapabilityRange(kind: .io, base: 0x3f0 + (i - 1) * 4, order: 2, permissions: 1).word, 0x3f0 + (i - 1) * 4)
            actors.append(h.ec(landlordPD, s + 1))
            actors.append(h.ec(landlordPD, s + 3))
        }
        if let problem = h.kernel.invariantViolations(incremental: true).first {
            XCTFail("seed \(hex(seed)) after setup: \(problem)")
            return (false, 0)
        }
        for step in 0..<30 {
            let ready = actors.filter { $0.isAlive && $0.state == .ready }
            guard let ec = ready.isEmpty ? nil : rng.pick(ready) else { break }
            let what = randomAction(h, ec, &rng)
            if let problem = h.kernel.invariantViolations(incremental: true).first {
                XCTFail("seed \(hex(seed)) step \(step) (\(what) by \(ec.name)): \(problem)")
                return (false, 0)
            }
        }
        var pieces: UInt64 = 0
        for pd in h.kernel.protectionDomains where pd !== h.rootPD && pd !== landlordPD {
            pieces += UInt64(pd.space.memory.values.filter { $0.parent?.order ?? 0 > $0.order }.count)
            pieces += UInt64(pd.space.io.values.filter { $0.parent?.order ?? 0 > $0.order }.count)
        }
        h.status(root, .revoke, CapabilityRange(kind: .object, base: landlordSel, permissions: 0).word, RevokeFlags.includeSelf)
        h.status(root, .revoke, CapabilityRange(kind: .object, base: landlordSel + 1, permissions: 0).word, RevokeFlags.includeSelf)
        h.status(root, .revoke, CapabilityRange(kind: .object, base: landlordSel + 2, permissions: 0).word, RevokeFlags.includeSelf)
        if let problem = h.kernel.invariantViolations(incremental: true).first {
            XCTFail("seed \(hex(seed)) after revoking everything: \(problem)")
            return (false, 0)
        }
        return (true, pieces)
    }

    private func randomCRD(_ rng: inout SplitMix) -> UInt64 {
        if rng.below(8) == 0 { return rng.next() }
        let kind = rng.pick([CapabilityRange.Kind.object, .memory, .io, .null])
        // Mostly small orders (partial ranges that split), sometimes the whole landlord block or more.
        let order = kind == .memory ? rng.pick([0, 0, 1, 2, 3, 4, 5, 9, 9, 10, 11]) : rng.below(5)
        let base: UInt64
        switch kind {
        case .object: base = rng.below(48) & ~((1 << order) - 1)
        case .memory: base = (Self.landlordMemory + rng.below(1 << Self.memoryOrder)) & ~((1 << order) - 1)
        case .io: base = (0x3f0 + rng.below(16)) & ~((1 << order) - 1)
        case .null: base = 0
        }
        return CapabilityRange(kind: kind, base: base, order: order, permissions: rng.below(32)).word
    }

    /// Somewhere in the landlord-sized area, usually aligned to the range's size, sometimes not.
    private func randomMemoryDestination(_ rng: inout SplitMix, order: UInt64) -> UInt64 {
        let page = Self.landlordMemory + rng.below(1 << Self.memoryOrder)
        return rng.below(8) == 0 ? page : page & ~((1 << min(order, 20)) - 1)
    }

    private func randomSelector(_ rng: inout SplitMix) -> UInt64 {
        rng.below(10) == 0 ? rng.next() : rng.below(48)
    }

    /// One random hypercall (or fault / interrupt / time passing) by `ec`; returns a description for failures.
    private func randomAction(_ h: KernelHarness, _ ec: ExecutionContext, _ rng: inout SplitMix) -> String {
        switch rng.below(20) {
        case 0:
            let vector = rng.below(32)
            h.kernel.handle(.exception(vector: vector, errorCode: rng.below(16), faultAddress: rng.next()), from: ec)
            return "exception \(vector)"
        case 1:
            h.kernel.handle(.interrupt(irq: rng.below(26)), from: nil)
            return "interrupt"
        case 2:
            h.machine.advance(by: rng.below(20))
            h.kernel.wakeExpiredTimeouts()
            return "time"
        case 3:
            // A vCPU the sequence made runs its guest (whatever its memory holds) until it exits.
            let vcpus = h.kernel.executionContexts.filter { $0.vcpu != nil && $0.state == .ready && $0.boundSC != nil }
            guard !vcpus.isEmpty, let sc = rng.pick(vcpus).boundSC else { return "no vCPU to run" }
            h.kernel.runOnce(sc.ec, on: sc)
            return "vCPU run"
        default: break
        }
        // A random message with random typed items and windows, for call and reply.
        let untyped = Int(rng.below(4))
        var typed: [(CapabilityRange, UInt64)] = []
        for _ in 0..<rng.below(3) {
            let crd = CapabilityRange(word: randomCRD(&rng)) ?? .null
            typed.append((crd, crd.kind == .memory ? randomMemoryDestination(&rng, order: crd.order) : crd.kind == .io ? crd.base : rng.below(48)))
        }
        h.setMessage(ec, untyped: (0..<untyped).map { _ in rng.next() }, typed: typed)
        h.kernel.setUTCBWord(ec, UTCBLayout.objectWindowWord, randomCRD(&rng))
        h.kernel.setUTCBWord(ec, UTCBLayout.memoryWindowWord, randomCRD(&rng))
        let number = rng.below(17)
        var args: [UInt64] = []
        switch Hypercall(rawValue: number) {
        case .delegate?:
            let crd = randomCRD(&rng)
            let order = CapabilityRange(word: crd)?.order ?? 0
            args = [randomSelector(&rng), crd, rng.pick([rng.below(48), randomMemoryDestination(&rng, order: order), 0x3f0 + rng.below(16), rng.next()])]
        case .revoke?: args = [randomCRD(&rng), rng.below(3)]
        case .lookup?: args = [randomCRD(&rng)]
        case .createEC?: args = [randomSelector(&rng), randomSelector(&rng), rng.pick([0x90_0000_0000, 0x90_0002_0000, 0xa0_0000_0000, rng.next()]), 0, 0, rng.below(4) | rng.below(80) << 8]
        case .createPT?: args = [randomSelector(&rng), randomSelector(&rng), rng.next(), rng.below(70), rng.pick([0, TransferDescriptor.all, rng.below(1 << 12)])]
        case .createPD?: args = [randomSelector(&rng), rng.below(8), rng.below(40), rng.pick([0, 0, PDFlags.vm, rng.next()])]
        case .ctrlSM?: args = [randomSelector(&rng), rng.below(4), h.machine.now + rng.below(30)]
        case .consoleWrite?: args = [rng.below(8)]
        default: args = (0..<4).map { _ in rng.below(3) == 0 ? rng.next() : randomSelector(&rng) }
        }
        h.raw(ec, number, args)
        return "hypercall \(number) \(args.map { hex($0) })"
    }
}
