/* The two libc routines the Embedded Swift standard library still calls besides memory and allocation
   (memory.c, heap.c): ceil (hash table capacities) and arc4random_buf (Hasher's seed). Shared with user binaries. */
#include <stddef.h>
#include <stdint.h>

double ceil(double x) {
    /* Values this large are already integers (and NaN stays NaN). */
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;
    double truncated = (double)(int64_t)x;
    return truncated < x ? truncated + 1.0 : truncated;
}

/* A fixed seed: hashing stays deterministic from boot to boot (the kernel and components hash only their own data,
   so there is no flooding adversary worth a random seed). */
void arc4random_buf(void *buffer, size_t count) {
    uint8_t *bytes = buffer;
    for (size_t i = 0; i < count; i++) bytes[i] = (uint8_t)(0x9e + 0x37 * i);
}
