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

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    pongPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
