/* The ring transitions. x86_enter_user saves the kernel's callee-saved registers and stack pointer and iretqs to
   user mode; the trap stubs and the syscall entry store the user registers straight into the running EC's
   UserContext (its first 18 words, offsets F_* below; x86.h) and "return" from x86_enter_user with X86_EXIT_TRAP or
   X86_EXIT_SYSCALL. Traps taken in kernel mode are either the
   interrupt that ends x86_idle, or a kernel bug (register dump, x86_kernel_fault). */
    .intel_syntax noprefix

    .set F_RAX, 0
    .set F_RBX, 8
    .set F_RCX, 16
    .set F_RDX, 24
    .set F_RSI, 32
    .set F_RDI, 40
    .set F_RBP, 48
    .set F_RSP, 56
    .set F_R8, 64
    .set F_R9, 72
    .set F_R10, 80
    .set F_R11, 88
    .set F_R12, 96
    .set F_R13, 104
    .set F_R14, 112
    .set F_R15, 120
    .set F_RIP, 128
    .set F_RFLAGS, 136

    .set USER_CS, 0x23
    .set USER_SS, 0x1b

    .section .bss
    .balign 8
kernel_rsp:     .quad 0      /* the kernel stack pointer inside x86_enter_user */
current_frame:  .quad 0      /* the UserContext of the code running in ring 3 */
syscall_scratch: .quad 0     /* the user rsp while the syscall entry switches stacks */
trap_vector:    .quad 0
trap_error:     .quad 0
trap_cr2:       .quad 0
idle_vector:    .quad 0
/* Host NMIs taken (vector 2 and the VMX NMI exits that consume one): the kernel's only use for them is to count
   and report them (X86Platform.reportHostNMIs), so none can reach a PD as an exception or halt the kernel. */
    .global x86_nmi_count
x86_nmi_count:  .quad 0
/* The running EC's FXSAVE image (its UserContext.floatingPoint storage, 16-byte aligned): restored before iretq,
   saved on every exit before any kernel code can touch the x87/SSE registers. */
current_fpu:    .quad 0

    .text
/* uint64_t x86_enter_user(void *registers, uint64_t *fpu_state) */
    .global x86_enter_user
x86_enter_user:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rip + kernel_rsp], rsp
    mov [rip + current_frame], rdi
    mov [rip + current_fpu], rsi
    fxrstor64 [rsi]
    push USER_SS
    push [rdi + F_RSP]
    mov rax, [rdi + F_RFLAGS]
    and rax, 0xcd5              /* only the arithmetic and direction flags survive; IOPL, NT, TF, AC do not */
    or rax, 0x202               /* IF on (bit 1 is always set) */
    push rax
    push USER_CS
    push [rdi + F_RIP]
    mov rax, [rdi + F_RAX]
    mov rbx, [rdi + F_RBX]
    mov rcx, [rdi + F_RCX]
    mov rdx, [rdi + F_RDX]
    mov rsi, [rdi + F_RSI]
    mov rbp, [rdi + F_RBP]
    mov r8, [rdi + F_R8]
    mov r9, [rdi + F_R9]
    mov r10, [rdi + F_R10]
    mov r11, [rdi + F_R11]
    mov r12, [rdi + F_R12]
    mov r13, [rdi + F_R13]
    mov r14, [rdi + F_R14]
    mov r15, [rdi + F_R15]
    mov rdi, [rdi + F_RDI]
    iretq

/* Back on the kernel stack: restore what x86_enter_user saved and return eax to its caller. */
leave_user:
    mov rsp, [rip + kernel_rsp]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

/* syscall: rcx = user rip, r11 = user rflags, rsp still the user's; SFMASK cleared IF. The frame itself serves as
   the stack for the stores, which is safe: NMI, #DF and #MC run on their own IST stack. */
    .global x86_syscall_entry
x86_syscall_entry:
    mov [rip + syscall_scratch], rsp
    mov rsp, [rip + current_frame]
    mov [rsp + F_RAX], rax
    mov [rsp + F_RBX], rbx
    mov [rsp + F_RCX], rcx
    mov [rsp + F_RDX], rdx
    mov [rsp + F_RSI], rsi
    mov [rsp + F_RDI], rdi
    mov [rsp + F_RBP], rbp
    mov [rsp + F_R8], r8
    mov [rsp + F_R9], r9
    mov [rsp + F_R10], r10
    mov [rsp + F_R11], r11
    mov [rsp + F_R12], r12
    mov [rsp + F_R13], r13
    mov [rsp + F_R14], r14
    mov [rsp + F_R15], r15
    mov [rsp + F_RIP], rcx
    mov [rsp + F_RFLAGS], r11
    mov rax, [rip + syscall_scratch]
    mov [rsp + F_RSP], rax
    mov rax, [rip + current_fpu]
    fxsave64 [rax]
    mov eax, 0                  /* X86_EXIT_SYSCALL */
    jmp leave_user

/* Every vector gets a stub that pushes a dummy error code where the CPU pushes none, then the vector. */
    .macro trap_stub vector
    .balign 16
trap_stub_\vector:
    .if \vector == 2
    /* An NMI can arrive anywhere, even between two instructions of a stub (it runs on IST1): touch no register,
       count it and go back (flags come back with iretq, which also ends NMI blocking). */
    lock inc qword ptr [rip + x86_nmi_count]
    iretq
    .exitm
    .endif
    .if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    push 0
    .endif
    push \vector
    jmp trap_common
    .endm

    .altmacro
    .set v, 0
    .rept 256
    trap_stub %v
    .set v, v + 1
    .endr

/* The stub table the IDT is built from (descriptors.c). */
    .section .rodata
    .balign 8
    .global x86_trap_stubs
x86_trap_stubs:
    .macro stub_address vector
    .quad trap_stub_\vector
    .endm
    .set v, 0
    .rept 256
    stub_address %v
    .set v, v + 1
    .endr
    .noaltmacro

    .text
/* Stack: vector, error, rip, cs, rflags, rsp, ss. */
trap_common:
    cld                                  /* the user's DF must not reach the kernel's string copies (memory.c) */
    test qword ptr [rsp + 24], 3
    jz kernel_trap
    push rax
    mov rax, [rip + current_frame]
    mov [rax + F_RBX], rbx
    pop rbx
    mov [rax + F_RAX], rbx
    mov [rax + F_RCX], rcx
    mov [rax + F_RDX], rdx
    mov [rax + F_RSI], rsi
    mov [rax + F_RDI], rdi
    mov [rax + F_RBP], rbp
    mov [rax + F_R8], r8
    mov [rax + F_R9], r9
    mov [rax + F_R10], r10
    mov [rax + F_R11], r11
    mov [rax + F_R12], r12
    mov [rax + F_R13], r13
    mov [rax + F_R14], r14
    mov [rax + F_R15], r15
    mov rbx, [rsp + 16]
    mov [rax + F_RIP], rbx
    mov rbx, [rsp + 32]
    mov [rax + F_RFLAGS], rbx
    mov rbx, [rsp + 40]
    mov [rax + F_RSP], rbx
    mov rbx, [rsp]
    mov [rip + trap_vector], rbx
    mov rbx, [rsp + 8]
    mov [rip + trap_error], rbx
    mov rbx, cr2
    mov [rip + trap_cr2], rbx
    mov rbx, [rip + current_fpu]
    fxsave64 [rbx]
    mov eax, 1                  /* X86_EXIT_TRAP */
    jmp leave_user

kernel_trap:
    cmp qword ptr [rsp], 32
    jb kernel_fault
    /* An interrupt while the kernel waits in x86_idle (the only place it enables them). Record it and return with
       interrupts off so exactly one is taken; the spurious vector is not recorded, so x86_idle keeps waiting. */
    cmp qword ptr [rsp], 255
    je 1f
    push rax
    mov rax, [rsp + 8]
    mov [rip + idle_vector], rax
    pop rax
    and qword ptr [rsp + 32], ~0x200
1:  add rsp, 16
    iretq

kernel_fault:
    /* Build a struct x86_fault_frame (fault_dump.c) below the hardware frame and hand it to C. */
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    mov rdi, rsp
    and rsp, ~15
    call x86_kernel_fault
2:  cli
    hlt
    jmp 2b

/* uint64_t x86_idle(void) */
    .global x86_idle
x86_idle:
    mov qword ptr [rip + idle_vector], -1
1:  sti
    hlt
    cli
    cmp qword ptr [rip + idle_vector], -1
    je 1b
    mov rax, [rip + idle_vector]
    ret

/* uint64_t x86_take_pending_interrupt(void): after an SVM INTR exit the interrupt is still pending (GIF was 0);
   open a one-instruction window so kernel_trap records its vector (-1: it went away). */
    .global x86_take_pending_interrupt
x86_take_pending_interrupt:
    mov qword ptr [rip + idle_vector], -1
    sti
    nop
    cli
    mov rax, [rip + idle_vector]
    ret

    .global x86_trap_vector
x86_trap_vector:
    mov rax, [rip + trap_vector]
    ret
    .global x86_trap_error
x86_trap_error:
    mov rax, [rip + trap_error]
    ret
    .global x86_trap_cr2
x86_trap_cr2:
    mov rax, [rip + trap_cr2]
    ret
