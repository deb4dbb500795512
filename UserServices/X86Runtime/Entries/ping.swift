// modules: KernelABI UserRuntime PongComponent PingComponent
// heap: 65536
// The ping test component (IPC round trips to pong, page delegation and revocation): slot 0 only.
import PingComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    pingMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
