/* posix_memalign/free for Embedded Swift over one arena. Power-of-two size classes; blocks smaller than a page are
   carved from pages dedicated to one class, larger blocks are page runs. A byte per page (a table at the start of
   the arena) records its class, so free() needs no header and every block is aligned to its size (up to a page).
   The kernel hands the arena over with heap_init (carved from free RAM at boot); user binaries are compiled with
   -DHEAP_SIZE and use a static arena. Exhaustion is fatal: heap_exhausted() is provided by the binary. */
#include <stddef.h>
#include <stdint.h>

#define PAGE 4096u
#define MIN_SHIFT 4
#define CLASSES 40

void heap_exhausted(size_t size) __attribute__((noreturn));
/* free() of something this heap never handed out: memory corruption in the caller. */
void heap_bad_free(void *block) __attribute__((noreturn));

static uint8_t *arena;
static size_t arena_pages;
static uint8_t *page_class; /* one byte per arena page */
static size_t next_page;
static void *free_lists[CLASSES];

void heap_init(void *base, size_t size) {
    arena = base;
    arena_pages = size / PAGE;
    page_class = base;
    next_page = (arena_pages + PAGE - 1) / PAGE; /* the class table's own pages */
    for (size_t i = 0; i < arena_pages; i++) page_class[i] = 0;
}

void heap_arena(uint64_t *base, uint64_t *size) {
    *base = (uint64_t)(uintptr_t)arena;
    *size = (uint64_t)arena_pages * PAGE;
}

#ifdef HEAP_SIZE
static uint8_t static_arena[HEAP_SIZE] __attribute__((aligned(PAGE)));
#endif

static unsigned class_for(size_t size) {
    unsigned shift = MIN_SHIFT;
    while (shift < CLASSES && ((size_t)1 << shift) < size) shift++;
    return shift;
}

static void *take_pages(size_t count, unsigned shift) {
    if (count > arena_pages - next_page) return NULL;
    void *block = arena + next_page * PAGE;
    page_class[next_page] = (uint8_t)shift;
    next_page += count;
    return block;
}

/* User binaries: all ECs of a PD share the heap and the kernel preempts them anywhere (a VMM's exit handlers run
   on their vCPUs' SCs), so the heap is under a spin lock. A waiter spins until its budget ends; the holder then
   runs on (handlers of one PD share a priority, so round robin always reaches it) and releases the lock. The kernel
   is single-threaded with interrupts off and needs none. */
#ifdef HEAP_SIZE
static volatile int heap_lock;
static void lock_heap(void) {
    while (__atomic_exchange_n(&heap_lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause();
}
static void unlock_heap(void) { __atomic_store_n(&heap_lock, 0, __ATOMIC_RELEASE); }
#else
static void lock_heap(void) {}
static void unlock_heap(void) {}
#endif

static void *allocate_locked(size_t size);

static void *allocate(size_t size) {
    lock_heap();
    void *block = allocate_locked(size);
    unlock_heap();
    return block;
}

static void *allocate_locked(size_t size) {
#ifdef HEAP_SIZE
    if (!arena) heap_init(static_arena, HEAP_SIZE);
#endif
    if (!arena) return NULL;
    unsigned shift = class_for(size ? size : 1);
    if (shift >= CLASSES) return NULL;
    if (free_lists[shift]) {
        void *block = free_lists[shift];
        free_lists[shift] = *(void **)block;
        return block;
    }
    size_t block_size = (size_t)1 << shift;
    if (block_size >= PAGE) return take_pages(block_size / PAGE, shift);
    uint8_t *page = take_pages(1, shift);
    if (!page) return NULL;
    for (size_t offset = block_size; offset < PAGE; offset += block_size) {
        *(void **)(page + offset) = free_lists[shift];
        free_lists[shift] = page + offset;
    }
    return page;
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    /* Blocks are aligned to their size up to a page, so asking for at least `alignment` bytes is enough. */
    if (alignment > PAGE) return 22; /* EINVAL */
    void *block = allocate(size < alignment ? alignment : size);
    if (!block) heap_exhausted(size);
    *result = block;
    return 0;
}

void *malloc(size_t size) {
    void *block = allocate(size);
    if (!block) heap_exhausted(size);
    return block;
}

void free(void *block) {
    if (!block) return;
    lock_heap();
    if ((uint8_t *)block < arena || (uint8_t *)block >= arena + next_page * PAGE) heap_bad_free(block);
    unsigned shift = page_class[(size_t)((uint8_t *)block - arena) / PAGE];
    /* A block inside a page shares its page's class; page runs record it on their first page. */
    *(void **)block = free_lists[shift];
    free_lists[shift] = block;
    unlock_heap();
}

/* Pages of the arena in use (for the boot report). */
size_t heap_used_bytes(void) { return next_page * PAGE; }
