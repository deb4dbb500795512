import KernelABI
import UserRuntime

/// The state a vCPU starts in for a loaded image: flat segments from the loader's GDT (`GuestLoader.gdt`: 0x08
/// code with `codeAttributes`, 0x10 data), general registers zero, interrupts off, no IDT, and the given control
/// registers. All entries (64-bit, Multiboot, Linux with its own GDT and selectors) are this with other modes.
enum FlatEntryState {
    static func write<P>(into state: inout ExitState<P>, rip: UInt64, rsp: UInt64, cr0: UInt64, cr3: UInt64,
                         cr4: UInt64, efer: UInt64, codeAttributes: UInt64, codeSelector: UInt64 = 0x08,
                         dataSelector: UInt64 = 0x10, dataAttributes: UInt64 = 0xc93,
                         gdtBase: UInt64 = GuestLoader.gdt, gdtLimit: UInt64 = 23) {
        typealias L = GuestStateLayout
        state.rip = rip
        state.rsp = rsp
        state.rflags = 0x2
        for i in 0..<15 { state.set(L.firstGeneralRegister + i, 0, TransferDescriptor.generalRegisters) }
        for (index, value) in [(L.cr0, cr0), (L.cr2, 0), (L.cr3, cr3), (L.cr4, cr4), (L.efer, efer)] as [(Int, UInt64)] {
            state.set(index, value, TransferDescriptor.controlRegisters)
        }
        // es, cs, ss, ds, fs, gs, ldtr, tr: selector | attributes << 16, limit, base.
        let data: (UInt64, UInt64, UInt64) = (dataSelector, dataAttributes, 0xffff_ffff)
        let segments = [data, (codeSelector, codeAttributes, 0xffff_ffff), data, data, data, data, (0, 0x82, 0xffff),
                        (0, 0x8b, 0x67)]
        for (i, s) in segments.enumerated() {
            state.set(L.firstSegment + 3 * i, s.0 | s.1 << 16, TransferDescriptor.segments)
            state.set(L.firstSegment + 3 * i + 1, s.2, TransferDescriptor.segments)
            state.set(L.firstSegment + 3 * i + 2, 0, TransferDescriptor.segments)
        }
        state.set(L.gdtrBase, gdtBase, TransferDescriptor.descriptorTables)
        state.set(L.gdtrLimit, gdtLimit, TransferDescriptor.descriptorTables)
        state.set(L.idtrBase, 0, TransferDescriptor.descriptorTables)
        state.set(L.idtrLimit, 0, TransferDescriptor.descriptorTables)
    }
}
