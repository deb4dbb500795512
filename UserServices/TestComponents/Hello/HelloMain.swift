import KernelABI
import UserRuntime

/// The "hello" test component: prints one greeting line through the "log" service it uses, then idles.
/// Without a "log" service it has no way to speak, so it faults on purpose (the root task reports that).
public func helloMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log")
    else {
        // Touch the unmapped null page: a fault is the only message left.
        _ = platform.load64(0)
        return
    }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    log.write("hello: Hello from a component, printed by the serial driver\n")
    let idle = ComponentSelectors.firstFree
    _ = sys.createSM(idle, count: 0)
    while sys.down(sm: idle) == .success {}
}
