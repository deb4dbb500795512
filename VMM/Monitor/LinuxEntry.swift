import GuestBoot
import KernelABI
import UserRuntime

/// A Linux guest's first state, as `LinuxBootLoader` planned it (64-bit boot protocol): kept in the VM's control
/// block between the build and the boot vCPU's startup exit, then written as that exit's reply. The plan's own
/// selectors (__BOOT_CS 0x10, __BOOT_DS 0x18) and GDT, not the test images' 0x08/0x10.
enum LinuxEntry {
    enum Word {
        static let rip: UInt64 = 0, rsi: UInt64 = 1, rsp: UInt64 = 2, cr0: UInt64 = 3, cr3: UInt64 = 4, cr4: UInt64 = 5
        static let efer: UInt64 = 6, gdt: UInt64 = 7, gdtLimit: UInt64 = 8
        /// code selector | data selector << 16 | code attributes << 32 | data attributes << 48
        static let segments: UInt64 = 9
    }

    static func store<P>(_ plan: LinuxBootPlan, into control: VMControlBlock<P>) {
        control.setLinuxEntry(Word.rip, plan.rip)
        control.setLinuxEntry(Word.rsi, plan.rsi)
        control.setLinuxEntry(Word.rsp, plan.rsp)
        control.setLinuxEntry(Word.cr0, plan.cr0)
        control.setLinuxEntry(Word.cr3, plan.cr3)
        control.setLinuxEntry(Word.cr4, plan.cr4)
        control.setLinuxEntry(Word.efer, plan.efer)
        control.setLinuxEntry(Word.gdt, plan.gdtBase)
        control.setLinuxEntry(Word.gdtLimit, UInt64(plan.gdtLimit))
        control.setLinuxEntry(Word.segments, UInt64(plan.codeSelector) | UInt64(plan.dataSelector) << 16
                              | UInt64(plan.codeAttributes) << 32 | UInt64(plan.dataAttributes) << 48)
    }

    static func write<P, Q>(from control: VMControlBlock<P>, into state: inout ExitState<Q>) {
        let segments = control.linuxEntry(Word.segments)
        FlatEntryState.write(into: &state, rip: control.linuxEntry(Word.rip), rsp: control.linuxEntry(Word.rsp),
                             cr0: control.linuxEntry(Word.cr0), cr3: control.linuxEntry(Word.cr3),
                             cr4: control.linuxEntry(Word.cr4), efer: control.linuxEntry(Word.efer),
                             codeAttributes: (segments >> 32) & 0xffff,
                             codeSelector: segments & 0xffff, dataSelector: (segments >> 16) & 0xffff,
                             dataAttributes: segments >> 48,
                             gdtBase: control.linuxEntry(Word.gdt), gdtLimit: control.linuxEntry(Word.gdtLimit))
        state.setRegister(6, control.linuxEntry(Word.rsi))
    }
}
