@testable import Sim

/// A small VM for the guest CPU tests: 32 MiB of host RAM, guest-physical 0..8 MiB mapped by a nested table the test
/// can edit (guest page p lives at host p + 16 MiB, so a mix-up of the two shows), and a boot-loader-like layout:
/// page tables (4 KiB pages below 2 MiB, 2 MiB pages up to 8 MiB, identity), GDT, TSS and IDT, code at 0x10000.
final class GuestMachine {
    static let hostOffset: UInt64 = 0x100_0000
    static let pml4: UInt64 = 0x1000, pt: UInt64 = 0x4000, gdt: UInt64 = 0x5000, tss: UInt64 = 0x6000, idt: UInt64 = 0x7000
    static let stackTop: UInt64 = 0x80000, data: UInt64 = 0x90000
    static let rsp0: UInt64 = 0x7f000, ist1: UInt64 = 0x7e000

    let memory = SimPhysicalMemory(size: 32 << 20)
    /// Guest pages whose nested mapping differs from the default (nil: not mapped).
    var nestedOverrides: [UInt64: SimGuestNestedMapping?] = [:]
    var lookups = 0
    let image: GuestImage
    var cpu: SimGuestCPU!

    init(_ guest: String, buildTables: Bool = true) throws {
        image = try GuestImage.build(guest)
        cpu = try SimGuestCPU(memory: memory) { [unowned self] page in
            self.lookups += 1
            if let override = self.nestedOverrides[page] { return override }
            return page < 8 << 20 ? SimGuestNestedMapping(hostPhysical: page + Self.hostOffset) : nil
        }
        try write(image.bytes, at: GuestImage.base)
        if buildTables { try buildLongModeTables() }
    }

    func write(_ bytes: [UInt8], at guestPhysical: UInt64) throws {
        try memory.write(bytes, at: guestPhysical + Self.hostOffset)
    }
    func write64(_ guestPhysical: UInt64, _ value: UInt64) throws {
        try write((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: guestPhysical)
    }
    func read64(_ guestPhysical: UInt64) throws -> UInt64 { try memory.read64(guestPhysical + Self.hostOffset) }

    private func buildLongModeTables() throws {
        try write64(Self.pml4, 0x2007)
        try write64(0x2000, 0x3007)
        try write64(0x3000, Self.pt | 0x7)
        for i in 1..<4 as Range<UInt64> { try write64(0x3000 + 8 * i, (i << 21) | 0x87) }
        for i in 0..<512 as Range<UInt64> { try write64(Self.pt + 8 * i, (i << 12) | 0x7) }
        try write64(Self.pt, 0) // page 0 not present: null pointers fault
        let descriptors: [UInt64] = [0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0x00cf_9a00_0000_ffff,
                                     0x00cf_f200_0000_ffff, 0x00af_fa00_0000_ffff]
        for (i, d) in descriptors.enumerated() { try write64(Self.gdt + 8 * UInt64(i), d) }
        // 0x30: 64-bit TSS at 0x6000.
        try write64(Self.gdt + 0x30, 0x0000_8900_0000_0067 | (Self.tss & 0xff_ffff) << 16 | (Self.tss >> 24 & 0xff) << 56)
        try write64(Self.gdt + 0x38, 0)
        try write64(Self.tss + 4, Self.rsp0)
        try write64(Self.tss + 0x24, Self.ist1)
    }

    /// A 64-bit interrupt (or trap) gate in the IDT.
    func setGate(_ vector: UInt64, _ handler: UInt64, ist: UInt64 = 0, trap: Bool = false, dpl: UInt64 = 0) throws {
        let type: UInt64 = trap ? 0xf : 0xe
        let low = (handler & 0xffff) | 0x08 << 16 | ist << 32 | (0x80 | dpl << 5 | type) << 40 | (handler >> 16 & 0xffff) << 48
        try write64(Self.idt + 16 * vector, low)
        try write64(Self.idt + 16 * vector + 8, handler >> 32)
    }

    /// Long mode at `symbol` with the layout above (IDT loaded, TR = the TSS).
    func longModeState(at symbol: String) -> SimGuestState {
        var state = SimGuestState.longMode(rip: image[symbol], cr3: Self.pml4, rsp: Self.stackTop)
        state.gdtr = SimGuestDescriptorTable(base: Self.gdt, limit: 0x3f)
        state.idtr = SimGuestDescriptorTable(base: Self.idt, limit: 0xfff)
        state.tr = .tss(0x30, base: Self.tss)
        return state
    }

    /// Runs until an exit that is not the end of a slice.
    func run(_ state: inout SimGuestState, _ controls: SimGuestControls = SimGuestControls(), asid: UInt32 = 1,
             budget: UInt64 = 1_000_000) -> SimGuestExit {
        cpu.run(&state, controls: controls, asid: asid, budget: budget)
    }
}

extension SimGuestExit {
    var nextRip: UInt64? {
        switch self {
        case .cpuid(let next), .hlt(let next), .rdtsc(let next): return next
        case .io(let io): return io.nextRip
        case .msrRead(_, let next), .msrWrite(_, _, let next), .crRead(_, _, let next), .crWrite(_, _, let next),
             .invlpg(_, let next), .virtualization(_, let next): return next
        default: return nil
        }
    }
}
