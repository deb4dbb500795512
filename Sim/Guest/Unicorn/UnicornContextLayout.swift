import CUnicorn

/// Where the fields the API does not reach sit in a saved Unicorn 2.1.4 context (QEMU 5.0's CPUX86State after
/// Unicorn's header). The fixed part is QEMU's struct order; the header size and the exception bookkeeping are found
/// once per process by running tiny guests (`discover`) and every fixed offset is checked against the API there, so
/// another Unicorn build fails loudly with a typed error instead of corrupting guests.
struct UnicornContextLayout: Sendable {
    /// Bytes before CPUX86State in the saved context.
    let headerSize: Int
    /// `error_code` of the exception being raised (not readable through the API).
    var errorCode = 0
    /// `exception_is_int`: 1 for INT n / INT3 / INTO (rip already past the instruction).
    var exceptionIsInt = 0
    /// `old_exception`: QEMU's "exception in flight"; never reset by Unicorn, so a second fault would become #DF.
    var oldException = 0

    static let hflags = 176
    static let segments = 184 // es, cs, ss, ds, fs, gs: {u32 selector, u64 base, u32 limit, u32 flags}
    static let segmentStride = 24
    static let ldt = 328
    static let tr = 352
    static let gdt = 376
    static let idt = 400
    static let controlRegisters = 424 // cr0..cr4, 8 bytes each
    static let efer = 592

    /// Computed once per process; immutable afterwards (not mutable global state).
    static let shared: Result<UnicornContextLayout, SimGuestEntryError> = discover()

    private static func discover() -> Result<UnicornContextLayout, SimGuestEntryError> {
        do {
            let probe = try Probe()
            let magic: UInt64 = 0x5a17_c0de_1234_9876
            probe.engine.write(UC_X86_REG_RAX, magic)
            probe.engine.save()
            guard let header = probe.find(magic, width: 8) else {
                return .failure(.engine(code: 0, what: "a context layout without rax"))
            }
            var layout = UnicornContextLayout(headerSize: header)
            let e = probe.engine
            let checks: [(Int, UInt64)] = [(controlRegisters + 3 * 8, e.read(UC_X86_REG_CR3)),
                                           (controlRegisters + 4 * 8, e.read(UC_X86_REG_CR4)),
                                           (efer, e.readMSR(SimGuestMSR.efer)), (gdt + 8, 0x8000)]
            for (offset, expected) in checks where probe.load64(header + offset) != expected {
                return .failure(.engine(code: 0, what: "a context layout that differs from Unicorn 2.1.4's at \(offset)"))
            }
            // #GP(0x2468) and #GP(0x1358) from loading DS; #DE; INT 0x40.
            let gp1 = try Probe.fault([0x66, 0xb8, 0x68, 0x24, 0x8e, 0xd8, 0xf4])
            let gp2 = try Probe.fault([0x66, 0xb8, 0x58, 0x13, 0x8e, 0xd8, 0xf4])
            let de = try Probe.fault([0x31, 0xd2, 0xf7, 0xf2, 0xf4])
            let int40 = try Probe.fault([0x90, 0xcd, 0x40, 0xf4])
            let errorCodes = Set(gp1.changed(to: 0x2468)).intersection(gp2.changed(to: 0x1358)).subtracting([header]) // not rax
            let inFlight = Set(gp1.changed(from: -1, to: 13)).intersection(de.changed(from: -1, to: 0))
            let isInt = Set(int40.changed(from: 0, to: 1)).subtracting(de.changed(from: 0, to: 1))
            guard errorCodes.count == 1, inFlight.count == 1, let isIntOffset = isInt.min() else {
                return .failure(.engine(code: 0, what: "a context without a unique exception bookkeeping"))
            }
            layout.errorCode = errorCodes.first! - header
            layout.oldException = inFlight.first! - header
            layout.exceptionIsInt = isIntOffset - header
            return .success(layout)
        } catch {
            return .failure(error)
        }
    }

    /// A raw engine in flat long mode set up through the API (as a loader would), with 64 KiB of RAM at 0.
    private final class Probe {
        let engine: UnicornEngine
        var before: [UInt8] = []
        var after: [UInt8] = []

        init() throws(SimGuestEntryError) {
            engine = try UnicornEngine()
            let e = engine
            uc_mem_map(e.uc, 0, 0x10000, UC_PROT_ALL.rawValue)
            func put(_ address: UInt64, _ values: [UInt64]) {
                var values = values
                uc_mem_write(e.uc, address, &values, UInt64(values.count * 8))
            }
            put(0x1000, [0x2003]); put(0x2000, [0x3003]); put(0x3000, [0x83]) // 2 MiB identity
            put(0x8000, [0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff])
            var gdtr = uc_x86_mmr(selector: 0, base: 0x8000, limit: 23, flags: 0)
            uc_reg_write(e.uc, Int32(UC_X86_REG_GDTR.rawValue), &gdtr)
            e.write(UC_X86_REG_CR3, 0x1000)
            e.write(UC_X86_REG_CR4, 0x20)
            e.writeMSR(SimGuestMSR.efer, 0x500)
            e.write(UC_X86_REG_CR0, 0x8000_0011)
            e.write(UC_X86_REG_CS, 0x08)
            e.write(UC_X86_REG_SS, 0x10)
            e.write(UC_X86_REG_DS, 0x10)
            e.write(UC_X86_REG_RSP, 0xf000)
        }

        func snapshot() -> [UInt8] {
            engine.save()
            let size = uc_context_size(engine.uc)
            return [UInt8](UnsafeRawBufferPointer(start: engine.bytes, count: size))
        }

        func find(_ value: UInt64, width: Int) -> Int? {
            let data = snapshot()
            return stride(from: 0, to: data.count - width, by: 4).first { load(data, $0, width) == value }
        }

        func load64(_ offset: Int) -> UInt64 { load(snapshot(), offset, 8) }

        private func load(_ data: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(0) { $0 | UInt64(data[offset + $1]) << (8 * $1) }
        }

        static func fault(_ code: [UInt8]) throws(SimGuestEntryError) -> Probe {
            let probe = try Probe()
            var code = code
            uc_mem_write(probe.engine.uc, 0x9000, &code, UInt64(code.count))
            probe.before = probe.snapshot()
            var hook: uc_hook = 0
            cu_hook_intr(probe.engine.uc, &hook, { uc, _, _ in uc_emu_stop(uc) }, nil)
            _ = probe.engine.start(at: 0x9000)
            probe.after = probe.snapshot()
            return probe
        }

        func int32(_ data: [UInt8], _ offset: Int) -> Int32 { Int32(bitPattern: UInt32(load(data, offset, 4))) }

        func changed(from old: Int32? = nil, to new: Int32) -> [Int] {
            stride(from: 0, to: min(before.count, after.count) - 4, by: 4).filter { offset in
                int32(after, offset) == new && (old.map { int32(before, offset) == $0 } ?? (int32(before, offset) != new))
            }
        }
    }
}
