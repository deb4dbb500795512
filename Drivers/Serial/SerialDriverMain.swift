import KernelABI
import UserRuntime

/// Where the serial driver puts its log handler EC.
enum SerialLayout {
    static let handlerEC: UInt64 = ComponentSelectors.firstFree
    static let logPortal: UInt64 = ComponentSelectors.firstFree + 1
    static let idleSM: UInt64 = ComponentSelectors.firstFree + 2
    static let handlerUTCB: UInt64 = ComponentLayout.firstFreeUTCB
    /// The handler's stack: the top `handlerStackPages` of the heap.
    static let handlerStackPages: UInt64 = 2
    /// Entry-table slot of `serialLogPortal`.
    static let handlerSlot = 1
}

/// The serial driver component (entry slot 0): programs the 16550 at the first port range it was granted (COM1 in
/// the manifests), binds a portal for the "log" service to a handler EC, registers it with the root task, and idles.
/// A driver given no usable port range or memory has nothing to drive: it idles without registering, so the root
/// task reports that the service never became available.
public func serialDriverMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let ports = info.ports.first, ports.count >= UART16550<P>.portCount, ports.first + 8 <= 0x1_0000,
          info.heapSize >= SerialLayout.handlerStackPages * AddressLayout.pageSize,
          let service = info.providedService(named: "log")
    else { return idle(sys) }
    UART16550(platform: platform, base: UInt16(ports.first)).initialize()

    let handler = EntryTable.address(entry: info.entry, slot: SerialLayout.handlerSlot)
    guard sys.createEC(SerialLayout.handlerEC, pd: ComponentSelectors.ownPD, utcb: SerialLayout.handlerUTCB,
                       stackPointer: info.heapBase + info.heapSize, entry: handler, global: false,
                       eventBase: ComponentSelectors.eventBase) == .success,
          sys.createPT(SerialLayout.logPortal, ec: SerialLayout.handlerEC, entry: handler, portalID: service.id) == .success
    else { return idle(sys) }
    _ = ServiceRegistration.register(UTCB(platform: platform, base: ComponentLayout.utcb), serviceID: service.id,
                                     landing: service.landing, portal: SerialLayout.logPortal)
    idle(sys)
}

/// The "log" portal handler (entry slot 1): writes each request's text to the UART and replies with a status. The
/// kernel starts the handler afresh for every call, so this frame is abandoned at `reply`: the request's bytes are
/// read and released in `serveLogRequest` first.
public func serialLogPortal<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let utcb = UTCB(platform: platform, base: SerialLayout.handlerUTCB)
    while true {
        let status = serveLogRequest(platform, utcb)
        utcb.setMessage(untyped: [status.rawValue])
        _ = sys.reply()
    }
}

private func serveLogRequest<P: UserPlatform>(_ platform: P, _ utcb: UTCB<P>) -> Status {
    let base = (try? ComponentStartInfo.read(platform, at: ComponentLayout.startInfo))?.ports.first?.first ?? 0
    let uart = UART16550(platform: platform, base: UInt16(truncatingIfNeeded: base))
    guard let text = LogProtocol.request(utcb) else { return .badRange }
    for byte in text where !uart.write(byte) { return .badState }
    return .success
}

/// Blocks the main EC for good (it has nothing more to do; the handler EC serves calls).
func idle<P: UserPlatform>(_ sys: SystemCalls<P>) {
    _ = sys.createSM(SerialLayout.idleSM, count: 0)
    while sys.down(sm: SerialLayout.idleSM) == .success {}
}
