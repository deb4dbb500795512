// modules: KernelABI UserRuntime
// heap: 65536
// Image test component (Tests/ImageTests/Manifests/timer.toml): sleeps on a semaphore with a deadline while nothing
// else can run, so the kernel idles (sti; hlt) until the LAPIC one-shot timer fires; reports how long it slept.
import KernelABI
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    let platform = X86UserPlatform(utcbAddress: ComponentLayout.utcb)
    let sys = SystemCalls(platform)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log") else { return }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    let sm = ComponentSelectors.firstFree
    guard sys.createSM(sm, count: 0) == .success else {
        log.write("timercheck: cannot create a semaphore\n")
        return
    }
    for milliseconds in [UInt64(20), 50] {
        let start = platform.timestamp()
        // The kernel's tick is the TSC, the same counter timestamp() reads.
        let status = sys.down(sm: sm, deadline: start + milliseconds * info.ticksPerMillisecond)
        let slept = (platform.timestamp() - start) / info.ticksPerMillisecond
        log.write("timercheck: down with a \(milliseconds) ms deadline returned \(status.description) after \(slept) ms\n")
    }
}
