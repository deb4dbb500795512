// modules: KernelABI UserRuntime PongComponent
// heap: 65536
// The pong test component: slot 0 registers its portal, slot 1 answers calls.
import PongComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    pongMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply (the kernel restarts it at
/// this entry for the next call), so an object made per call would never be freed.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    if let platform = handlerPlatform { pongPortal(platform, startInfo: startInfo) }
}
