// modules: KernelABI UserRuntime IRQCheckComponent
// heap: 65536
// Image test component (Tests/ImageTests/Manifests/irq.toml): counts CMOS RTC interrupts (IRQ 8) through its
// interrupt semaphore; slot 0 only.
import IRQCheckComponent
import UserRuntime
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    irqCheckMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}
