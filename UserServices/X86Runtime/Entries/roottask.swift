// modules: KernelABI UserRuntime ManifestFormat ELFFormat BootFormat RootTask
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

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    rootTaskPortal(X86UserPlatform(utcbAddress: AddressLayout.rootUTCB), startInfo: startInfo)
}
