/* What the freestanding heap needs from its binary. The instructions behind X86UserPlatform are static inline in
   x86_user.h, so Swift inlines them. */
#include <stddef.h>

/* The heap (Kernel/X86/heap.c) ran out: stop this EC with an invalid-opcode exception its fault handler sees. */
void heap_exhausted(size_t size) {
    (void)size;
    for (;;) __asm__ volatile("ud2");
}

/* free() of a pointer the heap never handed out: stop with an invalid-opcode exception. */
void heap_bad_free(void *block) {
    (void)block;
    for (;;) __asm__ volatile("ud2");
}
