/* The C library routines compiled code (Swift and C) calls, for freestanding binaries: the kernel and, through
   UserServices/X86Runtime, every user image. */
#include <stddef.h>
#include <stdint.h>

/* Whole words with `rep movsq` / `rep stosq` when the ends are 8-aligned (the kernel's and Swift's copies of
   registers, UTCB words and structs are), bytes for the rest: under TCG each iteration counts as one instruction,
   a third of a loop's. */
static int both_aligned(const void *a, const void *b) { return (((uintptr_t)a | (uintptr_t)b) & 7) == 0; }

void *memset(void *destination, int value, size_t count) {
    uint8_t *d = destination;
    if (((uintptr_t)d & 7) == 0 && count >= 8) {
        uint64_t pattern = (uint8_t)value * 0x0101010101010101ull;
        size_t words = count / 8;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
        count &= 7;
    }
    while (count--) *d++ = (uint8_t)value;
    return destination;
}

void *memcpy(void *destination, const void *source, size_t count) {
    uint8_t *d = destination;
    const uint8_t *s = source;
    if (both_aligned(d, s) && count >= 8) {
        size_t words = count / 8;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
        count &= 7;
    }
    while (count--) *d++ = *s++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
    uint8_t *d = destination;
    const uint8_t *s = source;
    /* Disjoint or copying downwards: a forward copy is right. */
    if (d <= s || d >= s + count) return memcpy(destination, source, count);
    while (count--) d[count] = s[count];
    return destination;
}

int memcmp(const void *a, const void *b, size_t count) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < count; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
