import KernelABI
import UserRuntime

/// What a hostile VMM tries, in two parts, each case printed as a PASS/FAIL line so that the simulator, the image on
/// SVM and the image on VMX can be compared line by line (vm.expected): the same refusal with the same status on all
/// three.
///
/// 1. Hypercalls about its VM the kernel must refuse (`runHostileCalls`, after the VM is built): each with the
///    status ABI.md documents.
/// 2. Replies and states no CPU may enter (`HostileReply`, after the failed-entry check): each one a good state
///    (real mode at a HLT) with one thing wrong, which must come back as exit `failedEntry`, and after each the
///    good state again, which must run (the vCPU survives every refusal). All but the last are the kernel's own
///    checks; the last (CR3 beyond the physical address width) passes them and is refused by the CPU itself (SVM's
///    VMRUN, a VMX VM-entry failure, the simulator's entry check).
func runHostileCalls<P: UserPlatform>(_ platform: P, _ info: ComponentStartInfo, log: (String) -> Void) {
    typealias L = VMCheckLayout
    let scratch = ComponentSelectors.firstFree + 16
    func call(_ number: Hypercall, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0,
              _ f: UInt64 = 0) -> Status {
        Status(rawValue: platform.hypercall(number.rawValue, a, b, c, d, e, f).rax) ?? .badHypercall
    }
    let handler = EntryTable.address(entry: info.entry, slot: L.handlerSlot)
    let spare = CapabilityRange(kind: .memory, base: (info.vms.first?.ramAddress ?? 0) >> AddressLayout.pageShift
                                    + L.guestPages, order: 0, permissions: Permissions.read | Permissions.write)
    let cases: [(String, Status, Status)] = [
        ("create_pd with a flag that does not exist", .badRange,
         call(.createPD, scratch, 8, Permissions.all, 2)),
        ("an ordinary EC in the VM PD", .badState,
         call(.createEC, scratch, L.vm, L.handlerUTCB + AddressLayout.pageSize, 0, handler, ECFlags.global)),
        ("a vCPU in the VMM's own PD", .badState,
         call(.createEC, scratch, ComponentSelectors.ownPD, 0, 0, 0, ECFlags.global | ECFlags.vcpu)),
        ("a vCPU that is not global", .badState, call(.createEC, scratch, L.vm, 0, 0, 0, ECFlags.vcpu)),
        ("an exit portal whose MTD names groups that do not exist", .badRange,
         call(.createPT, scratch, L.handlerEC, handler, 0, TransferDescriptor.all + 1)),
        ("guest memory at guest page 2^36", .badRange, call(.delegate, L.vm, spare.word, 1 << 36)),
    ]
    for (what, expected, status) in cases {
        log(status == expected ? "PASS refused: \(what) (\(status.description))"
                               : "FAIL refused: \(what): \(status.description), expected \(expected.description)")
    }
}

/// The replies of part 2 (see `runHostileCalls`).
enum HostileReply {
    /// The HLT the good state runs to (the guest's last byte before its #UD handler).
    static var haltAt: UInt64 { VMCheckGuest.halt }
    static var count: Int { names.count }

    /// Writes the good state into the reply: real mode at `haltAt`, interrupts off, nothing to inject.
    static func good<P: UserPlatform>(_ check: VMCheck<P>) -> UInt64 {
        typealias G = GuestStateLayout
        check.set(G.rip, haltAt)
        check.set(G.cr0, 0x10); check.set(G.cr2, 0); check.set(G.cr3, 0); check.set(G.cr4, 0); check.set(G.efer, 0)
        check.set(G.rsp, VMCheckGuest.stackTop); check.set(G.rflags, 0x2)
        check.set(G.injection, 0); check.set(G.injectionErrorCode, 0)
        return TransferDescriptor.instructionPointer | TransferDescriptor.controlRegisters | TransferDescriptor.stack
            | TransferDescriptor.injection
    }

    /// What each case gets wrong, in order.
    static let names: [String] = [
        "a reply naming transfer groups that do not exist",
        "an injected exception with vector 40",
        "an injected #GP without its error code",
        "an injected #UD with an error code",
        "an injected NMI with vector 3",
        "an external interrupt injected while RFLAGS.IF is clear",
        "segment attributes wider than 16 bits",
        "EFER.SVME (the host's)",
        "CR4.VMXE (never a guest's)",
        "a reserved RFLAGS bit",
        "CR0.NW without CR0.CD",
        "CR3 beyond the physical address width (the CPU's own check)",
    ]

    /// Writes case `index` into the reply: the good state with one thing wrong; returns the reply's MTD.
    static func bad<P: UserPlatform>(_ index: Int, _ check: VMCheck<P>) -> UInt64 {
        typealias G = GuestStateLayout
        var mtd = good(check)
        let valid: UInt64 = 1 << 31, errorCode: UInt64 = 1 << 11
        let exception = valid | InjectionType.exception.rawValue << 8
        switch index {
        case 0: mtd |= TransferDescriptor.all + 1
        case 1: check.set(G.injection, exception | 40)
        case 2: check.set(G.injection, exception | 13)
        case 3: check.set(G.injection, exception | 6 | errorCode)
        case 4: check.set(G.injection, valid | InjectionType.nmi.rawValue << 8 | 3)
        case 5: check.set(G.injection, valid | InjectionType.externalInterrupt.rawValue << 8 | 0x20)
        case 6:
            check.set(G.firstSegment, check.word(G.firstSegment) | 1 << 32)
            mtd |= TransferDescriptor.segments
        case 7: check.set(G.efer, 1 << 12)
        case 8: check.set(G.cr4, 1 << 13)
        case 9: check.set(G.rflags, 0x2 | 1 << 15)
        case 10: check.set(G.cr0, 0x10 | 1 << 29)
        default: check.set(G.cr3, 1 << 60)
        }
        return mtd
    }
}
