import CUnicorn

/// One Unicorn instance in 64-bit x86 mode with a fixed CPU model: registers, the saved context (the CPU state
/// Unicorn's API does not reach: hidden segment parts, control registers, the pending-exception bookkeeping),
/// guest-physical mappings and the run call. Everything the engine does goes through here.
final class UnicornEngine {
    /// Nehalem: an x86-64-v2 baseline without XSAVE, VMX or SVM (TCG would emulate SVM for a model that has it).
    static let cpuModel = Int32(UC_CPU_X86_NEHALEM.rawValue)

    let uc: OpaquePointer
    private let context: OpaquePointer
    let layout: UnicornContextLayout
    private(set) var bytes: UnsafeMutableRawPointer
    /// The guest state the engine holds now (after the last load or store), to skip rewriting an unchanged context.
    var held: SimGuestState?
    /// Unicorn raised an exception since the last full load: its in-flight bookkeeping must be reset.
    var exceptionInFlight = false

    init(layout: UnicornContextLayout? = nil) throws(SimGuestEntryError) {
        var handle: OpaquePointer?
        var err = uc_open(UC_ARCH_X86, UC_MODE_64, &handle)
        guard err == UC_ERR_OK, let handle else { throw .engine(code: Int(err.rawValue), what: "uc_open") }
        err = cu_set_cpu_model(handle, Self.cpuModel)
        guard err == UC_ERR_OK else {
            uc_close(handle)
            throw .engine(code: Int(err.rawValue), what: "the CPU model")
        }
        var saved: OpaquePointer?
        err = uc_context_alloc(handle, &saved)
        guard err == UC_ERR_OK, let saved else {
            uc_close(handle)
            throw .engine(code: Int(err.rawValue), what: "uc_context_alloc")
        }
        uc = handle
        context = saved
        bytes = cu_context_bytes(saved)!
        if let layout {
            self.layout = layout
        } else {
            self.layout = UnicornContextLayout(headerSize: 0)
        }
    }

    deinit {
        uc_context_free(context)
        uc_close(uc)
    }

    // MARK: registers through the API (general registers, rip, rflags: Unicorn folds the lazy flags)

    func read(_ register: uc_x86_reg) -> UInt64 {
        var value: UInt64 = 0
        uc_reg_read(uc, Int32(register.rawValue), &value)
        return value
    }

    func write(_ register: uc_x86_reg, _ value: UInt64) {
        var value = value
        uc_reg_write(uc, Int32(register.rawValue), &value)
    }

    func readMSR(_ index: UInt32) -> UInt64 {
        var msr = uc_x86_msr(rid: index, value: 0)
        uc_reg_read(uc, Int32(UC_X86_REG_MSR.rawValue), &msr)
        return msr.value
    }

    func writeMSR(_ index: UInt32, _ value: UInt64) {
        var msr = uc_x86_msr(rid: index, value: value)
        uc_reg_write(uc, Int32(UC_X86_REG_MSR.rawValue), &msr)
    }

    // MARK: the saved context (QEMU's CPUX86State after Unicorn's header)

    func save() { uc_context_save(uc, context) }

    /// Loads the edited context and drops Unicorn's translations (they depend on CR3/CR0/CR4 and the mode).
    func restore() {
        uc_context_restore(uc, context)
        cu_flush_tlb(uc)
    }

    func load<T>(_ offset: Int, as type: T.Type) -> T {
        bytes.loadUnaligned(fromByteOffset: layout.headerSize + offset, as: type)
    }

    func store<T>(_ offset: Int, _ value: T) {
        bytes.storeBytes(of: value, toByteOffset: layout.headerSize + offset, as: T.self)
    }

    // MARK: memory

    func map(guestPhysical: UInt64, size: UInt64 = 4096, host: UnsafeMutableRawPointer, read: Bool, write: Bool,
             execute: Bool) -> uc_err {
        var perms = UC_PROT_NONE.rawValue
        if read { perms |= UC_PROT_READ.rawValue }
        if write { perms |= UC_PROT_WRITE.rawValue }
        if execute { perms |= UC_PROT_EXEC.rawValue }
        return uc_mem_map_ptr(uc, guestPhysical, size, perms, host)
    }

    func unmap(guestPhysical: UInt64) { uc_mem_unmap(uc, guestPhysical, 4096) }

    /// Reads guest-linear memory through the guest's page tables as Unicorn sees them (for instruction bytes).
    func readLinear(_ address: UInt64, into buffer: UnsafeMutableRawPointer, count: Int) -> Bool {
        uc_vmem_read(uc, address, UC_PROT_EXEC, buffer, count) == UC_ERR_OK
    }

    // MARK: running

    func start(at rip: UInt64, count: Int = 0) -> uc_err { uc_emu_start(uc, rip, 0, 0, count) }
    func stop() { uc_emu_stop(uc) }
    func removeTranslations(from begin: UInt64, to end: UInt64) { cu_remove_cache(uc, begin, end) }
}
