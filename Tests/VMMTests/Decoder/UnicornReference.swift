import CUnicorn
import InstructionDecoder

/// Unicorn 2 (QEMU's x86 translator, through CUnicorn) as an executing reference for the emulator: one engine per
/// code mode (64-bit long mode, 32-bit protected mode, 16-bit real mode, all with flat segments), running one
/// instruction from given registers and memory pages.
final class UnicornReference {
    /// Where the instruction runs (below 64 KiB for 16-bit code).
    static func codeAddress(_ mode: CodeMode) -> UInt64 { mode == .bits16 ? 0x8000 : 0x1000_0000 }

    struct Result {
        var registers: [UInt64]
        var rip: UInt64
        var rflags: UInt64
        var pages: [UInt64: [UInt8]]
    }

    private var engines: [CodeMode: OpaquePointer] = [:]

    init() {
        for (mode, ucMode) in [(CodeMode.bits16, UC_MODE_16), (.bits32, UC_MODE_32), (.bits64, UC_MODE_64)] {
            var engine: OpaquePointer?
            precondition(uc_open(UC_ARCH_X86, ucMode, &engine) == UC_ERR_OK, "uc_open")
            precondition(uc_mem_map(engine, Self.codeAddress(mode), 0x1000, UC_PROT_ALL.rawValue) == UC_ERR_OK)
            engines[mode] = engine
        }
    }

    deinit { for engine in engines.values { uc_close(engine) } }

    private static let registers64 = [UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP,
                                      UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9,
                                      UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
                                      UC_X86_REG_R15]
    private static let registers32 = [UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
                                      UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI]

    /// Runs `code` once from `state` with `pages` (page address -> 4096 bytes) mapped; nil when Unicorn refuses
    /// a mapping or stops with an error (it reaches no linear address at or above 2^52: it runs long mode
    /// without paging, and its physical addresses are 52 bits).
    func run(_ code: [UInt8], mode: CodeMode, state: GuestCPUState, pages: [UInt64: [UInt8]]) -> Result? {
        let engine = engines[mode]!
        let codeAddress = Self.codeAddress(mode)
        var codePage = code + [UInt8](repeating: 0x90, count: 0x1000 - code.count)
        uc_mem_write(engine, codeAddress, &codePage, 0x1000)
        cu_remove_cache(engine, codeAddress, codeAddress + 0x1000)
        var mapped: [UInt64] = []
        defer { for page in mapped { uc_mem_unmap(engine, page, 0x1000) } }
        for (page, var bytes) in pages {
            guard uc_mem_map(engine, page, 0x1000, UC_PROT_ALL.rawValue) == UC_ERR_OK else { return nil }
            mapped.append(page)
            uc_mem_write(engine, page, &bytes, 0x1000)
        }
        let ids = mode == .bits64 ? Self.registers64 : Self.registers32
        for (number, id) in ids.enumerated() { write(engine, id, state.registers[UInt8(number)]) }
        write(engine, mode == .bits64 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS, state.rflags)
        if mode == .bits64 {
            write(engine, UC_X86_REG_FS_BASE, state.segmentBases.fs)
            write(engine, UC_X86_REG_GS_BASE, state.segmentBases.gs)
        }
        // Until rip passes the instruction: REP forms take a step per iteration (callers keep rcx small).
        guard uc_emu_start(engine, codeAddress, codeAddress + UInt64(code.count), 0, 64) == UC_ERR_OK else {
            return nil
        }
        var result = Result(registers: ids.map { read(engine, $0) },
                            rip: read(engine, mode == .bits64 ? UC_X86_REG_RIP : UC_X86_REG_EIP),
                            rflags: read(engine, mode == .bits64 ? UC_X86_REG_RFLAGS : UC_X86_REG_EFLAGS), pages: [:])
        for page in mapped {
            var bytes = [UInt8](repeating: 0, count: 0x1000)
            uc_mem_read(engine, page, &bytes, 0x1000)
            result.pages[page] = bytes
        }
        return result
    }

    private func write(_ engine: OpaquePointer, _ register: uc_x86_reg, _ value: UInt64) {
        var value = value
        uc_reg_write(engine, Int32(register.rawValue), &value)
    }

    private func read(_ engine: OpaquePointer, _ register: uc_x86_reg) -> UInt64 {
        var value: UInt64 = 0
        uc_reg_read(engine, Int32(register.rawValue), &value)
        return value
    }
}
