// modules: KernelABI UserRuntime MSICheckComponent
// heap: 65536
// Image test component (Tests/ImageTests/Manifests/msi.toml): programs an e1000e's MSI with the message the
// kernel returns for its message interrupt and counts the MSIs on its semaphore; slot 0 only.
import MSICheckComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    msiCheckMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
