/* COM1, 115200 8N1, polled: the kernel console. */
#include "x86.h"
#include "cpu.h"

#define COM1 0x3f8

void x86_serial_init(void) {
    /* Reprogramming clears the FIFO: let what an earlier init's output left in it go out first. */
    while ((inb(COM1 + 5) & 0x40) == 0) {}
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

/* QEMU's isa-debug-exit (port 0xf4) ends QEMU at once with status value * 2 + 1. Bochs has no such device: there
   the value goes to its port 0xe9 console as "hv-exit 0x<value>" (tools/run-bochs reads it) and the "Shutdown"
   string to port 0x8900 ends the emulator. On a real PC nothing listens and the CPU halts. */
_Noreturn void x86_exit_emulator(uint32_t value) {
    outl(0xf4, value);
    /* Bochs sends at baud rate: the console's last line must leave the UART before the machine ends. */
    while ((inb(COM1 + 5) & 0x40) == 0) {}
    static const char digits[] = "0123456789abcdef";
    const char *line = "\nhv-exit 0x";
    for (const char *c = line; *c; c++) outb(0xe9, (uint8_t)*c);
    for (int shift = 28; shift >= 0; shift -= 4)
        if (value >> shift || shift == 0) outb(0xe9, (uint8_t)digits[(value >> shift) & 0xf]);
    outb(0xe9, '\n');
    for (const char *c = "Shutdown"; *c; c++) outb(0x8900, (uint8_t)*c);
    for (;;) __asm__ volatile("cli; hlt");
}
