// modules: KernelABI UserRuntime ManifestFormat PCIBus BlockService VirtioBlockDriver
// heap: 262144
// The virtio-blk-pci driver: slot 0 sets the device up and registers "block", slot 1 serves it (Drivers/VirtioBlock).
import UserRuntime
import VirtioBlockDriver
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    virtioBlockDriverMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    if let platform = handlerPlatform { virtioBlockPortal(platform, startInfo: startInfo) }
}
