// modules: KernelABI UserRuntime SerialDriver
// heap: 65536
// The 16550 serial driver: slot 0 sets the UART up and registers "log", slot 1 is the "log" portal handler.
import SerialDriver
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    serialDriverMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply (the kernel restarts it for the
/// next call), so an object made per call would never be freed.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    if let platform = handlerPlatform { serialLogPortal(platform, startInfo: startInfo) }
}
