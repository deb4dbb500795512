import KernelABI
import PongComponent
import UserRuntime

/// The "ping" test component: the client half of the two-PD IPC check. It
///  1. calls pong's portal `roundTrips` times and prints the IPC call+reply cost in timestamp ticks (instructions
///     under QEMU `-icount shift=0`, virtual time in the simulator);
///  2. asks pong to delegate a page into its memory receive window and reads it;
///  3. asks pong to revoke the page and reads it again, which must fault (the root task reports the fault).
public func pingMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let pong = info.portal(forService: "pong"), let logPortal = info.portal(forService: "log")
    else {
        // Without its services ping has no way to report; fault so the root task names it.
        _ = platform.load64(0)
        return
    }
    let log = LogClient(utcb: utcb, portal: logPortal)

    // 1. Round trips. The first calls warm caches and the TLB; only the measured loop counts.
    var value: UInt64 = 0
    for _ in 0..<PingLayout.warmUp { value = echo(sys, utcb, pong, value) }
    let start = platform.timestamp()
    for _ in 0..<PingLayout.roundTrips { value = echo(sys, utcb, pong, value) }
    let elapsed = platform.timestamp() &- start
    let expected = UInt64(PingLayout.warmUp + PingLayout.roundTrips)
    log.write(value == expected ? "ping: echo ok\n" : "ping: echo returned \(value), expected \(expected)\n")
    log.write("ping: ipc round trip ticks=\(elapsed / UInt64(PingLayout.roundTrips)) calls=\(PingLayout.roundTrips)\n")

    // 2. A page delegated by pong lands in the receive window and holds pong's pattern.
    let page = PingLayout.sharedPage
    utcb.setReceiveWindows(objects: .null,
                           memory: CapabilityRange(kind: .memory, base: page, order: 0, permissions: Permissions.memoryAll))
    utcb.setMessage(untyped: [PongProtocol.share, page])
    let shared = sys.call(portal: pong)
    guard shared == .success, utcb.data(0) == Status.success.rawValue, utcb.typedCount == 1 else {
        let why = shared == .success ? Status(rawValue: utcb.data(0)) ?? .badState : shared
        log.write("ping: share failed: \(why.description)\n")
        return
    }
    let address = page << AddressLayout.pageShift
    let pattern = platform.load64(address)
    log.write(pattern == PongProtocol.sharedPattern ? "ping: shared page holds pong's pattern\n"
                                                    : "ping: shared page holds the wrong value\n")

    // 3. After pong revokes, the same read must fault: the root task reports it, and this line is the last one.
    utcb.setMessage(untyped: [PongProtocol.revoke, 0])
    let revoked = sys.call(portal: pong)
    guard revoked == .success, utcb.data(0) == Status.success.rawValue else {
        let why = revoked == .success ? Status(rawValue: utcb.data(0)) ?? .badState : revoked
        log.write("ping: revoke failed: \(why.description)\n")
        return
    }
    log.write("ping: reading the revoked page at 0x\(String(address, radix: 16))\n")
    _ = platform.load64(address)
    log.write("ping: the revoked page was still readable\n")
}

enum PingLayout {
    static let warmUp = 16
    static let roundTrips = 1000
    /// The page number where pong's page is received: in the heap region, where the root task maps nothing else.
    static let sharedPage: UInt64 = (ComponentLayout.heapBase >> AddressLayout.pageShift) + 0x10_0000
}

/// Inlined into the measured loop, so the figure counts the IPC, not a call around it.
@inline(__always)
private func echo<P: UserPlatform>(_ sys: SystemCalls<P>, _ utcb: UTCB<P>, _ pong: UInt64, _ value: UInt64) -> UInt64 {
    utcb.setMessage(untyped: [PongProtocol.echo, value])
    guard sys.call(portal: pong) == .success, utcb.data(0) == Status.success.rawValue else { return 0 }
    return utcb.data(1)
}
