// modules: KernelABI UserRuntime IntruderComponent
// heap: 65536
// The intruder test component (touches what it was not given): slot 0 only.
import IntruderComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    intruderMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
