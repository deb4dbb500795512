// modules: KernelABI UserRuntime BlockService BlockCheckComponent
// heap: 65536
// Image test component (examples/block.toml): writes, flushes and reads back a pattern through the block service.
import BlockCheckComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    blockCheckMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
