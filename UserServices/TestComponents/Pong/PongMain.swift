import KernelABI
import UserRuntime

/// Where pong keeps its handler and the page it shares.
enum PongLayout {
    static let handlerEC: UInt64 = ComponentSelectors.firstFree
    static let portal: UInt64 = ComponentSelectors.firstFree + 1
    static let idleSM: UInt64 = ComponentSelectors.firstFree + 2
    static let handlerUTCB: UInt64 = ComponentLayout.firstFreeUTCB
    /// Entry-table slot of `pongPortal`.
    static let handlerSlot = 1
    /// The handler's stack is the top page of the heap; the shared page is the heap's first page.
    static let stackPages: UInt64 = 1
}

/// The "pong" test component (entry slot 0): binds the "pong" service portal to a handler EC, registers it with the
/// root task and idles. It needs one heap page for the handler's stack and one to share.
public func pongMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          info.heapSize >= (PongLayout.stackPages + 1) * AddressLayout.pageSize,
          let service = info.providedService(named: "pong")
    else {
        // Misconfigured: fault so that the root task names this component on the console.
        _ = platform.load64(0)
        return
    }
    platform.store64(info.heapBase, PongProtocol.sharedPattern)
    let handler = EntryTable.address(entry: info.entry, slot: PongLayout.handlerSlot)
    let created = sys.createEC(PongLayout.handlerEC, pd: ComponentSelectors.ownPD, utcb: PongLayout.handlerUTCB,
                               stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                               eventBase: ComponentSelectors.eventBase)
    let bound = created == .success
        ? sys.createPT(PongLayout.portal, ec: PongLayout.handlerEC, entry: handler, portalID: service.id) : created
    let registered = bound == .success
        ? ServiceRegistration.register(utcb, serviceID: service.id, landing: service.landing,
                                      portal: PongLayout.portal) : bound
    if registered != .success {
        // The root task reports a provider that never registers; a fault here makes the reason visible too.
        _ = platform.load64(0)
    }
    pongIdle(sys)
}

/// The "pong" portal handler (entry slot 1).
public func pongPortal<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: PongLayout.handlerUTCB)
    // Every call starts here afresh (reply does not return), so the echo path must stay cheap: it is the IPC
    // benchmark's handler. The other operations are out of line, so echo pays for none of their frame.
    while true {
        let count = utcb.untypedCount
        let operation = count >= 1 ? utcb.data(0) : 0
        let argument = count >= 2 ? utcb.data(1) : 0
        if operation == PongProtocol.echo {
            utcb.setMessage(untyped: [Status.success.rawValue, argument &+ 1])
        } else {
            pongAnswer(platform, operation: operation, argument: argument)
        }
        _ = sys.reply()
    }
}

/// Sets up pong's reply to a share, revoke or unknown operation. Only these need the start-info page. It takes the
/// platform, not pongPortal's `sys` and `utcb`: passing those out of line costs the echo path two retains per call.
@inline(never)
func pongAnswer<P: UserPlatform>(_ platform: P, operation: UInt64, argument: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: PongLayout.handlerUTCB)
    let sharedPage = { (try? ComponentStartInfo.read(platform, at: ComponentLayout.startInfo))
        .map { $0.heapBase >> AddressLayout.pageShift } ?? 0 }
    switch operation {
    case PongProtocol.share where sharedPage() != 0:
        let page = CapabilityRange(kind: .memory, base: sharedPage(), order: 0,
                                   permissions: Permissions.read | Permissions.write)
        utcb.setMessage(untyped: [Status.success.rawValue, 0], typed: [(page, argument)])
    case PongProtocol.revoke where sharedPage() != 0:
        let page = CapabilityRange(kind: .memory, base: sharedPage(), order: 0, permissions: Permissions.memoryAll)
        utcb.setMessage(untyped: [sys.revoke(page, includeSelf: false).rawValue, 0])
    default:
        utcb.setMessage(untyped: [Status.badRange.rawValue, 0])
    }
}

func pongIdle<P: UserPlatform>(_ sys: SystemCalls<P>) {
    _ = sys.createSM(PongLayout.idleSM, count: 0)
    while sys.down(sm: PongLayout.idleSM) == .success {}
}
