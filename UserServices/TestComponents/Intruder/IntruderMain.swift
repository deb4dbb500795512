import KernelABI
import UserRuntime

/// The "intruder" test component: calls a selector it was never given and reports the status it gets back (the
/// kernel must answer with an error, not crash), then writes an I/O port it was not granted, which faults: the root
/// task reports the fault.
public func intruderMain<P: UserPlatform>(_ platform: P, startInfo: UInt64) {
    let sys = SystemCalls(platform)
    let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo))
    let utcb = UTCB(platform: platform, base: ComponentLayout.utcb)
    let log = info?.portal(forService: "log").map { LogClient(utcb: utcb, portal: $0) }

    let status = sys.call(portal: IntruderTargets.ungrantedSelector)
    log?.write("intruder: call to ungranted selector \(IntruderTargets.ungrantedSelector) returned: \(status.description)\n")
    log?.write("intruder: writing ungranted I/O port \(IntruderTargets.ungrantedPort)\n")
    platform.portOut8(IntruderTargets.ungrantedPort, 0x42)
    log?.write("intruder: the port write did not fault\n")
}

enum IntruderTargets {
    /// A selector in the component's free range, where nothing was ever delegated.
    static let ungrantedSelector: UInt64 = ComponentSelectors.firstFree + 100
    /// The POST diagnostic port: harmless on real hardware, and no manifest grants it to the intruder.
    static let ungrantedPort: UInt16 = 0x80
}
