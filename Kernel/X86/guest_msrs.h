/* The MSRs a guest reads and writes itself, without an exit (ABI.md "Virtual machines": every other MSR access is
   intercepted). svm.c passes them in its MSR map (VMLOAD/VMSAVE switch them with the guest's state); vmx.c in its
   MSR bitmap (FS_BASE, GS_BASE and SYSENTER_* are VMCS guest fields, the others travel through its MSR areas). */
#ifndef GUEST_MSRS_H
#define GUEST_MSRS_H
#include <stdint.h>
static const uint32_t guest_owned_msrs[] = {
    0xc0000100, /* FS_BASE */
    0xc0000101, /* GS_BASE */
    0xc0000102, /* KERNEL_GS_BASE */
    0xc0000081, /* STAR */
    0xc0000082, /* LSTAR */
    0xc0000083, /* CSTAR */
    0xc0000084, /* SFMASK */
    0x174,      /* SYSENTER_CS */
    0x175,      /* SYSENTER_ESP */
    0x176,      /* SYSENTER_EIP */
};
#define GUEST_OWNED_MSR_COUNT (sizeof guest_owned_msrs / sizeof guest_owned_msrs[0])
#endif
