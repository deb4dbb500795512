// modules: KernelABI UserRuntime ELFFormat ManifestFormat DeviceModels GuestBoot InstructionDecoder BlockService VMM
// heap: 2097152
// The per-tenant VMM: slot 0 builds the VMs, slots 1-8 are the exit handlers of the vCPUs (one per vCPU, in VM
// order), each with its own UTCB (VMMLayout.handlerUTCB).
import UserRuntime
import VMM
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    vmmMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every exit: a handler's frame is abandoned at each reply (the kernel restarts it for the
/// next exit), so an object made per exit would never be freed. Two handlers racing here at first use make one
/// extra object once.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil

func serve(_ handler: Int) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    if let platform = handlerPlatform { vmmExitPortal(platform, handler: handler) }
}

@_cdecl("user_handler_1") public func userHandler1(_ a: UInt64) { serve(0) }
@_cdecl("user_handler_2") public func userHandler2(_ a: UInt64) { serve(1) }
@_cdecl("user_handler_3") public func userHandler3(_ a: UInt64) { serve(2) }
@_cdecl("user_handler_4") public func userHandler4(_ a: UInt64) { serve(3) }
@_cdecl("user_handler_5") public func userHandler5(_ a: UInt64) { serve(4) }
@_cdecl("user_handler_6") public func userHandler6(_ a: UInt64) { serve(5) }
@_cdecl("user_handler_7") public func userHandler7(_ a: UInt64) { serve(6) }
@_cdecl("user_handler_8") public func userHandler8(_ a: UInt64) { serve(7) }
