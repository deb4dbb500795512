import Kernel
import X86Shims

/// Which hardware virtualization runs the machine's vCPUs: AMD SVM (X86GuestPlatform.swift) or Intel VMX
/// (X86VMXPlatform.swift), found by CPUID at boot (setup.c probes SVM, then VMX; `x86_svm_setup` /
/// `x86_vmx_setup` say what they found). The kernel sees one vendor-neutral `Platform`: exits in the shared
/// numbering, `GuestState`, and nested tables in `nestedPaging`'s format.
enum GuestVendor {
    case none
    case svm
    case vmx

    static func probe() -> GuestVendor {
        if x86_svm_asid_count() > 1 { return .svm }
        if x86_vmx_vpid_count() > 0 { return .vmx }
        return .none
    }

    /// For the boot log.
    var description: String {
        switch self {
        case .svm: return "AMD SVM with nested paging (\(x86_svm_asid_count() - 1) ASIDs)"
        case .vmx: return "Intel VMX with EPT, VPID and unrestricted guest (\(x86_vmx_vpid_count()) VPIDs)"
        case .none:
            let reason = String(cString: x86_vmx_unavailable_reason())
            return "none (no SVM with nested paging; VMX: " + (reason.isEmpty ? "absent" : reason) + ")"
        }
    }
}

/// `Platform`'s VM part, dispatched to the vendor's backend.
extension X86Platform {
    var guestTagCount: UInt64 {
        switch guestVendor {
        case .svm: return svmTagCount
        case .vmx: return vmxTagCount
        case .none: return 0
        }
    }

    var guestStateFrames: UInt64 { guestVendor == .vmx ? vmxStateFrames : svmStateFrames }

    /// AMD NPT walks x86-64 tables; Intel EPT has its own entries (Kernel/Core/EPTEntry.swift).
    var nestedPaging: NestedPagingFormat { guestVendor == .vmx ? .ept : .x86_64 }

    @_optimize(speed) @inline(__always)
    func enterGuest(_ vcpu: VirtualCPU) -> Exit {
        guestVendor == .vmx ? enterVMXGuest(vcpu) : enterSVMGuest(vcpu)
    }

    /// SVM defers the bulky groups (X86GuestPlatform.swift); VMX reads and writes the whole state at every exit and
    /// entry, so its `vcpu.state` is always current and is what it loads.
    func fetchGuestState(_ vcpu: VirtualCPU, groups: UInt64) {
        if guestVendor == .svm { fetchSVMGuestState(vcpu, groups: groups) }
    }

    func copyGuestRegisters(_ vcpu: VirtualCPU, out: Bool, physical address: UInt64) {
        if guestVendor == .svm { return copySVMGuestRegisters(vcpu, out: out, physical: address) }
        let memory = UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)).unsafelyUnwrapped
        vcpu.state.registers.withUnsafeMutableBufferPointer { r in
            for i in r.indices { if out { memory[i] = r[i] } else { r[i] = memory[i] } }
        }
    }

    func flushGuestTranslations(tag: UInt64?) {
        if guestVendor == .vmx { flushVMXGuestTranslations(tag: tag) } else { flushSVMGuestTranslations(tag: tag) }
    }

    func releaseGuest(_ vcpu: VirtualCPU) {
        if guestVendor == .vmx { releaseVMXGuest(vcpu) } else { releaseSVMGuest(vcpu) }
    }
}
