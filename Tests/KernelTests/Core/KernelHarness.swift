import BootFormat
import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Boots the real kernel on a small simulated machine and lets a test play any EC: it sets the EC's registers and
/// hands the kernel an `Exit.hypercall` for it, as the CPU would after `syscall`.
final class KernelHarness {
    let system: SimSystem
    var kernel: Kernel<SimPlatform> { system.kernel }
    var machine: SimMachine { system.machine }
    var rootEC: ExecutionContext { kernel.rootEC! }
    var rootPD: ProtectionDomain { kernel.rootPD! }

    init(memorySize: UInt64 = 8 << 20, ticksPerMillisecond: UInt64 = 100,
         nestedPaging: NestedPagingFormat = .x86_64, deviceMemory: [PhysicalRange] = [],
         configurationWindows: [ConfigurationWindow] = []) throws {
        var options = SimSystem.Options()
        options.deviceMemory = deviceMemory
        options.configurationWindows = configurationWindows
        options.memorySize = memorySize
        options.ticksPerMillisecond = ticksPerMillisecond
        options.nestedPaging = nestedPaging
        system = try SimSystem(root: SimProgram(name: "root") { _, _ in }, options: options)
    }

    enum Outcome: Equatable {
        case returned(Status, UInt64, UInt64)
        case blocked
    }

    /// Makes `ec` issue hypercall `number` with up to six arguments (rdi, rsi, rdx, r10, r8, r9).
    @discardableResult
    func raw(_ ec: ExecutionContext, _ number: UInt64, _ args: [UInt64]) -> Outcome {
        let a = args + [UInt64](repeating: 0, count: 6 - args.count)
        ec.context.rax = number
        ec.context.rdi = a[0]; ec.context.rsi = a[1]; ec.context.rdx = a[2]
        ec.context.r10 = a[3]; ec.context.r8 = a[4]; ec.context.r9 = a[5]
        kernel.handle(.hypercall, from: ec)
        switch ec.state {
        case .calling, .queued, .blocked, .waitingForCall: return .blocked
        case .ready, .stopped: break
        }
        guard let status = Status(rawValue: ec.context.rax) else { return .blocked }
        return .returned(status, ec.context.rdi, ec.context.rsi)
    }

    @discardableResult
    func call(_ ec: ExecutionContext, _ h: Hypercall, _ args: UInt64...) -> Outcome { raw(ec, h.rawValue, args) }

    /// The status of a hypercall that must return at once.
    @discardableResult
    func status(_ ec: ExecutionContext, _ h: Hypercall, _ args: UInt64..., file: StaticString = #filePath,
                line: UInt = #line) -> Status {
        switch raw(ec, h.rawValue, args) {
        case .returned(let s, _, _): return s
        case .blocked:
            XCTFail("\(h) blocked", file: file, line: line)
            return .aborted
        }
    }

    /// The object behind `selector` in `pd`.
    func object(_ pd: ProtectionDomain, _ selector: UInt64) -> KernelObject? { pd.space.objects[selector]?.object }

    func ec(_ pd: ProtectionDomain, _ selector: UInt64) -> ExecutionContext {
        guard case .ec(let ec)? = object(pd, selector) else { fatalError("no EC at \(selector)") }
        return ec
    }

    func pd(_ holder: ProtectionDomain, _ selector: UInt64) -> ProtectionDomain {
        guard case .pd(let pd)? = object(holder, selector) else { fatalError("no PD at \(selector)") }
        return pd
    }

    /// Root creates a PD at `selector` with a global EC (UTCB at `utcb`) at `selector + 1`; returns both.
    func makeChild(at selector: UInt64, quota: UInt64 = 64, utcb: UInt64 = 0x90_0000_0000,
                   global: Bool = true, eventBase: UInt64 = 0) -> (ProtectionDomain, ExecutionContext) {
        XCTAssertEqual(status(rootEC, .createPD, selector, quota, Permissions.all), .success)
        XCTAssertEqual(status(rootEC, .createEC, selector + 1, selector, utcb, 0x90_1000_0000, 0x80_0000_0000,
                              ECFlags.make(global: global, eventBase: eventBase)), .success)
        return (pd(rootPD, selector), ec(rootPD, selector + 1))
    }

    // MARK: UTCB

    func setMessage(_ ec: ExecutionContext, untyped: [UInt64], typed: [(CapabilityRange, UInt64)] = []) {
        for (i, w) in untyped.enumerated() { kernel.setUTCBWord(ec, UTCBLayout.firstDataWord + i, w) }
        for (i, item) in typed.enumerated() {
            kernel.setUTCBWord(ec, UTCBLayout.firstDataWord + untyped.count + 2 * i, item.0.word)
            kernel.setUTCBWord(ec, UTCBLayout.firstDataWord + untyped.count + 2 * i + 1, item.1)
        }
        kernel.setUTCBWord(ec, UTCBLayout.countsWord, UTCBLayout.counts(untyped: untyped.count, typed: typed.count))
    }

    func setWindows(_ ec: ExecutionContext, objects: CapabilityRange, memory: CapabilityRange) {
        kernel.setUTCBWord(ec, UTCBLayout.objectWindowWord, objects.word)
        kernel.setUTCBWord(ec, UTCBLayout.memoryWindowWord, memory.word)
    }

    func data(_ ec: ExecutionContext, _ i: Int) -> UInt64 { kernel.utcbWord(ec, UTCBLayout.firstDataWord + i) }

    /// The simulator's page walk of `address` in `pd` as user code would see it.
    func translate(_ pd: ProtectionDomain, _ address: UInt64, _ access: SimAccess = .read) -> SimTranslation? {
        try? machine.walker.translate(root: pd.pageTableRoot, address: address, access: access, privilege: .user)
    }

    func assertInvariants(_ context: @autoclosure () -> String = "", file: StaticString = #filePath,
                          line: UInt = #line) {
        let problems = kernel.invariantViolations()
        XCTAssertTrue(problems.isEmpty, "\(context()): \(problems.prefix(5).joined(separator: "; "))", file: file,
                      line: line)
    }

    /// Root's window virtual page number of a page it holds: `index` pages after the first 16-page aligned one.
    func windowPage(_ index: UInt64) -> UInt64 {
        let first = (AddressLayout.physicalWindow + kernel.rootWindow[0].base) / AddressLayout.pageSize
        return (first + 15) & ~15 + index
    }

    /// The first window page of an aligned block of `2^order` pages that the root holds inside one range.
    func windowBlock(order: UInt64) -> UInt64? {
        let size: UInt64 = 1 << order
        return rootPD.space.memory.values.filter { $0.order >= order && $0.key >= AddressLayout.physicalWindow >> 12 }
            .map { $0.key }.min().map { ($0 + size - 1) & ~(size - 1) }
    }

    /// The physical address behind `windowPage(index)`.
    func windowPhysical(_ index: UInt64) -> UInt64 {
        windowPage(index) * AddressLayout.pageSize - AddressLayout.physicalWindow
    }
}
