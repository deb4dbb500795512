// modules: KernelABI UserRuntime VMMPlaceholderComponent
// heap: 65536
// The VMM placeholder component (reports the VMs it would run): slot 0 only.
import VMMPlaceholderComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    vmmPlaceholderMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
