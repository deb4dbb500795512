// modules: KernelABI UserRuntime HelloComponent
// heap: 65536
// The hello test component (logs through the serial driver): slot 0 only.
import HelloComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    helloMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
