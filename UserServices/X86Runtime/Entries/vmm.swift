// modules: KernelABI UserRuntime ELFFormat ManifestFormat VMM
// heap: 131072
// The per-tenant VMM: slot 0 builds the VMs, slots 1-8 are the exit handlers of the vCPUs (one per vCPU, in VM
// order), each with its own UTCB (VMMLayout.handlerUTCB).
import UserRuntime
import VMM
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    vmmMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

@_cdecl("user_handler_1") public func userHandler1(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 0) }
@_cdecl("user_handler_2") public func userHandler2(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 1) }
@_cdecl("user_handler_3") public func userHandler3(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 2) }
@_cdecl("user_handler_4") public func userHandler4(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 3) }
@_cdecl("user_handler_5") public func userHandler5(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 4) }
@_cdecl("user_handler_6") public func userHandler6(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 5) }
@_cdecl("user_handler_7") public func userHandler7(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 6) }
@_cdecl("user_handler_8") public func userHandler8(_ a: UInt64) { vmmExitPortal(X86UserPlatform(utcbAddress: ComponentLayout.utcb), handler: 7) }
