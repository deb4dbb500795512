/* AMD SVM host state: detection, EFER.SVME, the host save area (VM_HSAVE_PA), the host's VMSAVE image and this
   CPU's I/O and MSR permission maps. The maps are per CPU, not per vCPU (like the TSS I/O bitmap): the MSR map is
   one fixed policy for every guest, and the I/O map is rewritten only when a vCPU of a VM PD with other ports runs
   (X86GuestPlatform.swift caches what is installed).

   Invariants: once x86_svm_setup returned a count > 0, EFER.SVME stays set and VM_HSAVE_PA names host_save; the
   MSR map intercepts every MSR except the ones listed in guest_owned_msrs (ABI.md "Virtual machines"); the I/O map
   intercepts every port the running VM PD holds no I/O capability for, and always the bits past port 0xffff. */
#include "x86.h"
#include "svm.h"
#include "cpu.h"
#include "guest_msrs.h"

#define MSR_VM_HSAVE_PA 0xc0010117
#define MSR_VM_CR 0xc0010114
#define VM_CR_SVMDIS (1u << 4)
#define EFER_SVME (1u << 12)

static uint8_t host_save[4096] __attribute__((aligned(4096)));
uint8_t x86_svm_host_area_page[4096] __attribute__((aligned(4096)));
static uint8_t io_map[3 * 4096] __attribute__((aligned(4096)));
static uint8_t msr_map[2 * 4096] __attribute__((aligned(4096)));
static uint32_t asid_count;


/* Clears the read and write intercept bits of `msr` (two bits per MSR: read at 2n, write at 2n + 1; three 2 KiB
   ranges: 0..0x1fff, 0xc0000000..0xc0001fff, 0xc0010000..0xc0011fff). */
static void pass_msr(uint32_t msr) {
    uint32_t range;
    if (msr < 0x2000) range = 0;
    else if (msr - 0xc0000000u < 0x2000) range = 1;
    else if (msr - 0xc0010000u < 0x2000) range = 2;
    else return;
    uint32_t bit = (msr & 0x1fff) * 2;
    msr_map[range * 2048 + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

uint32_t x86_svm_setup(void) {
    uint32_t a, b, c, d;
    cpuid(0x80000000u, &a, &b, &c, &d);
    if (a < 0x8000000au) return 0;
    cpuid(0x80000001u, &a, &b, &c, &d);
    if (!(c & (1u << 2))) return 0;          /* SVM */
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) return 0;
    cpuid(0x8000000au, &a, &b, &c, &d);
    if (!(d & 1u) || b < 2) return 0;        /* nested paging, at least one guest ASID */
    for (uint32_t i = 0; i < sizeof msr_map; i++) msr_map[i] = 0xff;
    for (uint32_t i = 0; i < GUEST_OWNED_MSR_COUNT; i++) pass_msr(guest_owned_msrs[i]);
    x86_svm_set_io_permissions(0);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, (uint64_t)(uintptr_t)host_save);
    asid_count = b;
    return b;
}

uint32_t x86_svm_asid_count(void) { return asid_count; }
uint64_t x86_svm_iopm(void) { return (uint64_t)(uintptr_t)io_map; }
uint64_t x86_svm_msrpm(void) { return (uint64_t)(uintptr_t)msr_map; }

void x86_svm_set_io_permissions(const uint64_t *allowed_words) {
    uint64_t *map = (uint64_t *)(void *)io_map;
    for (uint32_t i = 0; i < sizeof io_map / 8; i++) map[i] = ~(uint64_t)0;
    if (!allowed_words) return;
    for (uint32_t i = 0; i < 1024; i++) map[i] = ~allowed_words[i];
}
