// modules: KernelABI UserRuntime ManifestFormat PCIBus PCIDriver
// heap: 262144
// The PCI bus driver: slot 0 registers one "pci" portal per client, slot 1 serves them (Drivers/PCI).
import PCIDriver
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    pciDriverMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    if let platform = handlerPlatform { pciServicePortal(platform, startInfo: startInfo) }
}
