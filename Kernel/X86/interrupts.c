/* Interrupt controllers and the timer. The legacy PIC is remapped out of the way and fully masked; device IRQs
   0..23 come through the IOAPIC to vectors 32..55: set up here as ISA 0..15 edge/active-high and PCI 16..23
   level/active-low at their own pins, then re-routed by X86Platform from the ACPI MADT's overrides
   (`x86_ioapic_route`); with VT-d interrupt remapping each pin is rewritten in remappable format
   (`x86_ioapic_write_entry`). MSI messages reach the LAPIC at vectors 80..111 (X86Platform.messageInterrupt),
   through the remapping table when it is on.
   The LAPIC timer runs one-shot; its deadline is given in TSC ticks and converted with the rates measured
   against PIT channel 2 at boot. */
#include "x86.h"
#include "cpu.h"

#define IOAPIC_BASE 0xfec00000ull
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0
#define LVT_MASKED (1u << 16)

static volatile uint32_t *lapic;
static uint64_t tsc_per_ms;
static uint64_t lapic_per_ms;

static uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static void lapic_write(uint32_t reg, uint32_t value) { lapic[reg / 4] = value; }

static void ioapic_write(uint32_t reg, uint32_t value) {
    volatile uint32_t *ioapic = (volatile uint32_t *)(uintptr_t)IOAPIC_BASE;
    ioapic[0] = reg;
    ioapic[4] = value;
}

static uint32_t ioapic_read(uint32_t reg) {
    volatile uint32_t *ioapic = (volatile uint32_t *)(uintptr_t)IOAPIC_BASE;
    ioapic[0] = reg;
    return ioapic[4];
}

void x86_setup_interrupt_controllers(void) {
    /* PIC: initialise, vectors 0xe0..0xef, then mask every line. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, X86_PIC_VECTOR_BASE); outb(0xa1, X86_PIC_VECTOR_BASE + 8);
    outb(0x21, 4); outb(0xa1, 2);
    outb(0x21, 1); outb(0xa1, 1);
    outb(0x21, 0xff); outb(0xa1, 0xff);

    /* LAPIC in xAPIC mode at its MSR base (identity mapped, uncached). */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, base | (1u << 11));
    lapic = (volatile uint32_t *)(uintptr_t)(base & ~0xfffull);
    lapic_write(LAPIC_SVR, 0x100 | X86_SPURIOUS_VECTOR);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_TIMER_DIVIDE, 0x3); /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | X86_TIMER_VECTOR);

    /* IOAPIC: every line masked, routed to its vector on this CPU (LAPIC id from the LAPIC). */
    uint32_t destination = lapic_read(0x20) >> 24;
    for (uint32_t irq = 0; irq < X86_IRQ_COUNT; irq++) {
        uint32_t low = (X86_IRQ_VECTOR_BASE + irq) | LVT_MASKED;
        if (irq >= 16) low |= (1u << 15) | (1u << 13); /* level, active low */
        ioapic_write(0x10 + 2 * irq + 1, destination << 24);
        ioapic_write(0x10 + 2 * irq, low);
    }
}

void x86_ioapic_mask(uint32_t pin, int masked) {
    if (pin >= X86_IRQ_COUNT) return;
    uint32_t low = ioapic_read(0x10 + 2 * pin);
    ioapic_write(0x10 + 2 * pin, masked ? (low | LVT_MASKED) : (low & ~LVT_MASKED));
}

void x86_ioapic_route(uint32_t pin, uint32_t vector, int level, int active_low) {
    if (pin >= X86_IRQ_COUNT) return;
    uint32_t low = vector | LVT_MASKED;
    if (level) low |= 1u << 15;
    if (active_low) low |= 1u << 13;
    ioapic_write(0x10 + 2 * pin, low);
}

uint32_t x86_ioapic_id(void) { return (ioapic_read(0) >> 24) & 0xf; }

void x86_ioapic_write_entry(uint32_t pin, uint64_t entry) {
    if (pin >= X86_IRQ_COUNT) return;
    ioapic_write(0x10 + 2 * pin, ioapic_read(0x10 + 2 * pin) | LVT_MASKED); /* masked while it changes */
    ioapic_write(0x10 + 2 * pin + 1, (uint32_t)(entry >> 32));
    ioapic_write(0x10 + 2 * pin, (uint32_t)entry);
}

void x86_lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

uint32_t x86_lapic_id(void) { return lapic_read(0x20) >> 24; }

/* Counts TSC and LAPIC ticks over 10 ms of PIT channel 2 (1.193182 MHz, one-shot, gated by port 0x61). */
void x86_calibrate_timer(void) {
    const uint32_t pit_ticks = 11932;
    uint8_t gate = inb(0x61);
    outb(0x61, (gate & ~0x02) | 0x01);
    outb(0x43, 0xb0); /* channel 2, low/high byte, mode 0 */
    outb(0x42, pit_ticks & 0xff);
    outb(0x42, pit_ticks >> 8);
    gate = inb(0x61) & ~0x01;
    outb(0x61, gate);
    outb(0x61, gate | 0x01); /* rising edge starts the count */
    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffff);
    uint64_t start = x86_tsc();
    while ((inb(0x61) & 0x20) == 0) {}
    uint64_t tsc = x86_tsc() - start;
    uint32_t counted = 0xffffffff - lapic_read(LAPIC_TIMER_CURRENT);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    tsc_per_ms = tsc / 10 ? tsc / 10 : 1;
    lapic_per_ms = counted / 10 ? counted / 10 : 1;
}

uint64_t x86_tsc_per_millisecond(void) { return tsc_per_ms; }

void x86_timer_arm(uint64_t ticks_from_now) {
    /* ticks * lapic_per_ms / tsc_per_ms without overflow, at least 1, at most the 32-bit counter. */
    uint64_t count = (ticks_from_now / tsc_per_ms) * lapic_per_ms +
                     (ticks_from_now % tsc_per_ms) * lapic_per_ms / tsc_per_ms;
    if (ticks_from_now / tsc_per_ms > 0xffffffffull || count > 0xffffffffull) count = 0xffffffff;
    if (count == 0) count = 1;
    lapic_write(LAPIC_LVT_TIMER, X86_TIMER_VECTOR); /* one-shot, unmasked */
    lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)count);
}

void x86_timer_cancel(void) {
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | X86_TIMER_VECTOR);
}
