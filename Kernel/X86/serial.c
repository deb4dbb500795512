/* COM1, 115200 8N1, polled: the kernel console. */
#include "x86.h"
#include "cpu.h"

#define COM1 0x3f8

void x86_serial_init(void) {
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* divisor latch */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void x86_serial_write(uint8_t byte) {
    if (byte == '\n') x86_serial_write('\r');
    while ((inb(COM1 + 5) & 0x20) == 0) {}
    outb(COM1, byte);
}

/* Embedded Swift's print() ends here. */
int putchar(int c) {
    x86_serial_write((uint8_t)c);
    return c;
}

_Noreturn void x86_exit_qemu(uint32_t value) {
    outl(0xf4, value);
    for (;;) __asm__ volatile("cli; hlt");
}
