// modules: KernelABI UserRuntime
// heap: 65536
// Image test component (Tests/ImageTests/Manifests/fpu.toml runs two): holds a pattern in every xmm register
// while it is preempted, several times, and reports whether the registers survived. Two copies with different
// patterns at one priority take turns on the CPU, so without per-EC x87/SSE state each would see the other's.
import KernelABI
import UserRuntime
import X86Runtime
import X86UserShims

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    let platform = X86UserPlatform(utcbAddress: ComponentLayout.utcb)
    guard let info = try? ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: startInfo)),
          let portal = info.portal(forService: "log") else { return }
    let log = LogClient(utcb: UTCB(platform: platform, base: ComponentLayout.utcb), portal: portal)
    let name = String(decoding: info.name, as: UTF8.self)
    // Distinct per component: the name's bytes.
    let pattern = info.name.reduce(UInt64(0x5a5a_0000_0000_0000)) { ($0 << 8) | UInt64($1) }
    var changed: UInt64 = 0, preemptions: UInt64 = 0
    for _ in 0..<5 {
        let result = x86_user_xmm_hold(pattern, 30 * info.ticksPerMillisecond)
        changed += result & 0xffff_ffff
        preemptions += result >> 32
    }
    if changed == 0 {
        log.write("\(name): vector registers intact across \(preemptions) preemptions\n")
    } else {
        log.write("\(name): vector registers changed \(changed) times\n")
    }
}
