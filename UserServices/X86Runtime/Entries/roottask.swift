// modules: KernelABI UserRuntime ManifestFormat ELFFormat BootFormat PCIBus RootTask
// heap: 4194304
// The root task on the image: slot 0 builds the system, slot 1 serves registration and event portals
// (UserServices/RootTask/README.md). Its main EC's UTCB is at AddressLayout.rootUTCB.
import KernelABI
import RootTask
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    rootTaskMain(X86UserPlatform(utcbAddress: AddressLayout.rootUTCB), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply (the kernel restarts it at
/// this entry for the next call), so an object made per call would never be freed.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: AddressLayout.rootUTCB) }
    if let platform = handlerPlatform { rootTaskPortal(platform, startInfo: startInfo) }
}
