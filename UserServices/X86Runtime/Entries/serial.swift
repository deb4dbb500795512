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

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    serialLogPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
