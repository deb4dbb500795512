/*
 * guest-test: the tiny guest program the example manifests give their VMs. Assembled from this source when the
 * image is built (tools/build-image), so no binary is checked in.
 *
 * Boot protocol (what a VMM must set up before running it): 64-bit mode, flat identity-mapped memory covering the
 * image and 4 KiB below its load address for the stack, entry at the ELF entry with interrupts off. It writes one
 * line to COM1 and then stops through the isa-debug-exit port (0xf4) with value 0x10 ("pass"), or halts.
 */
    .code64
    .section .text
    .globl _start
_start:
    lea     message(%rip), %rsi
    mov     $message_end - message, %ecx
    mov     $0x3f8, %dx
1:  lodsb
    outb    %al, %dx
    loop    1b
    mov     $0xf4, %dx
    mov     $0x10, %eax
    outl    %eax, %dx
2:  hlt
    jmp     2b

    .section .rodata
message:
    .ascii  "guest-test: hello from the guest\n"
message_end:
