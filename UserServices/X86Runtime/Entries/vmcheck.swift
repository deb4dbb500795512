// modules: KernelABI UserRuntime VMCheckComponent
// heap: 65536
// Image test component (Tests/ImageTests/Manifests/vm.toml): a VMM in miniature that checks the exits of a tiny
// real-mode guest; slot 0 builds the VM, slot 1 handles its exits.
import UserRuntime
import VMCheckComponent
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    vmCheckMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every exit: the handler's frame is abandoned at each reply (the kernel restarts it at
/// this entry for the next exit), so an object made per exit would never be freed.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    // The handler EC's UTCB is the first free UTCB slot (VMCheckLayout.handlerUTCB).
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.firstFreeUTCB) }
    if let platform = handlerPlatform { vmCheckHandler(platform, startInfo: startInfo) }
}
