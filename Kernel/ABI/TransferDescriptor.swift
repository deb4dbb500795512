/// A message transfer descriptor (MTD, as in NOVA): which groups of a vCPU's state travel with an exit. Each exit
/// portal carries one (`create_pt`); the kernel writes those groups into the handler's UTCB (at `GuestStateLayout`'s
/// fixed words) and sets the UTCB's MTD word to what it wrote. The reply's MTD word names the groups the kernel reads
/// back into the vCPU (checked first). A portal that asks for little pays little.
public enum TransferDescriptor {
    /// rax, rcx, rdx, rbx, rbp, rsi, rdi, r8-r15 (rsp travels with `stack`).
    public static let generalRegisters: UInt64 = 1 << 0
    /// rip and the exiting instruction's length (0 when the machine does not tell: then the VMM decodes it).
    public static let instructionPointer: UInt64 = 1 << 1
    /// rsp and rflags.
    public static let stack: UInt64 = 1 << 2
    /// cr0, cr2, cr3, cr4 and EFER.
    public static let controlRegisters: UInt64 = 1 << 3
    /// es, cs, ss, ds, fs, gs, ldtr, tr: selector, attributes, limit, base.
    public static let segments: UInt64 = 1 << 4
    /// gdtr and idtr.
    public static let descriptorTables: UInt64 = 1 << 5
    /// Interrupt shadow and activity state (running / halted).
    public static let interruptState: UInt64 = 1 << 6
    /// The event to inject at the next entry (vector, type, error code).
    public static let injection: UInt64 = 1 << 7
    public static let tscOffset: UInt64 = 1 << 8
    /// Exit qualification, guest-linear and guest-physical address (read-only: a reply cannot write it).
    public static let qualification: UInt64 = 1 << 9
    /// Intercept controls: interrupt-window request, exception bitmap, extra CR intercepts.
    public static let controls: UInt64 = 1 << 10
    public static let all: UInt64 = (1 << 11) - 1
}

/// Where a vCPU's state sits in its exit handler's UTCB (word indices, fixed so a VMM reads a field directly).
public enum GuestStateLayout {
    public static let mtd = 4
    public static let exitReason = 5
    public static let qualification0 = 6
    public static let qualification1 = 7
    /// Bit 0: the guest-linear address is known; bit 1: the instruction length is known.
    public static let qualificationFlags = 8
    public static let guestLinear = 9
    public static let guestPhysical = 10
    public static let instructionLength = 11
    public static let rip = 12
    public static let rflags = 13
    public static let rsp = 14
    /// rax, rcx, rdx, rbx, rbp, rsi, rdi, r8 ... r15: 15 words (x86 encoding order, rsp left out).
    public static let firstGeneralRegister = 15
    public static let cr0 = 30, cr2 = 31, cr3 = 32, cr4 = 33, efer = 34
    /// es, cs, ss, ds, fs, gs, ldtr, tr: three words each (selector | attributes << 16, limit, base).
    public static let firstSegment = 35
    public static let gdtrLimit = 59, gdtrBase = 60, idtrLimit = 61, idtrBase = 62
    /// Bit 0: interrupt shadow (the instruction after STI or MOV SS).
    public static let interruptShadow = 63
    /// 0 running, 1 halted (waiting for an interrupt).
    public static let activity = 64
    /// bit 31 valid, bits 8-10 type (`InjectionType`), bits 0-7 vector, bit 11 error code valid.
    public static let injection = 65
    public static let injectionErrorCode = 66
    public static let tscOffset = 67
    /// Bit 0: exit when the guest can take an interrupt.
    public static let controlFlags = 68
    public static let exceptionBitmap = 69
    public static let words = 70

    /// The words the groups of `mtd` occupy (the exit reason and MTD words are not in any group).
    public static func words(ofGroups mtd: UInt64) -> [Int] {
        var result: [Int] = []
        func add(_ group: UInt64, _ indices: [Int]) { if mtd & group != 0 { result += indices } }
        add(TransferDescriptor.qualification, [qualification0, qualification1, qualificationFlags, guestLinear, guestPhysical])
        add(TransferDescriptor.instructionPointer, [rip, instructionLength])
        add(TransferDescriptor.stack, [rsp, rflags])
        add(TransferDescriptor.generalRegisters, Array(firstGeneralRegister..<firstGeneralRegister + 15))
        add(TransferDescriptor.controlRegisters, [cr0, cr2, cr3, cr4, efer])
        add(TransferDescriptor.segments, Array(firstSegment..<firstSegment + 24))
        add(TransferDescriptor.descriptorTables, [gdtrLimit, gdtrBase, idtrLimit, idtrBase])
        add(TransferDescriptor.interruptState, [interruptShadow, activity])
        add(TransferDescriptor.injection, [injection, injectionErrorCode])
        add(TransferDescriptor.tscOffset, [tscOffset])
        add(TransferDescriptor.controls, [controlFlags, exceptionBitmap])
        return result
    }

    public static let linearKnown: UInt64 = 1 << 0
    public static let lengthKnown: UInt64 = 1 << 1
    public static let interruptWindowRequest: UInt64 = 1 << 0
}

/// The type field of an injected event.
public enum InjectionType: UInt64, Sendable {
    case externalInterrupt = 0, nmi = 2, exception = 3, softwareInterrupt = 4
}
