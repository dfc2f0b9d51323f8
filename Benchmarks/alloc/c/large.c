// large: blocks of 64 KiB to 64 MiB.
//
// Four slots each hold one large block. Each step replaces the block in a random slot with a new one of a
// log-uniform size in [64 KiB, 64 MiB] and writes one word in each 4 KiB page of it, as a program that
// fills a buffer would fault each page in. Before a block is freed, every written word is verified. The
// cost is dominated by what the allocator does with large frees: return the pages to the OS (munmap,
// MADV_DONTNEED: every reuse faults again) or keep them for reuse (faster, more RSS); peak RSS shows which.
//
// usage: large [steps=250]
#include "common.h"

#define SLOTS 4
#define PAGE 4096

typedef struct {
    unsigned char *p;
    size_t size;
    uint64_t tag;
} block_t;

static void touch(block_t *b) {
    for (size_t off = 0; off + 8 <= b->size; off += PAGE) {
        uint64_t v = b->tag + off;
        memcpy(b->p + off, &v, 8);
    }
    escape(b->p);
}

static uint64_t check_and_free(block_t *b) {
    for (size_t off = 0; off + 8 <= b->size; off += PAGE) {
        uint64_t v;
        memcpy(&v, b->p + off, 8);
        if (v != b->tag + off) die("large: block %p of %zu bytes changed at offset %zu", (void *)b->p, b->size, off);
    }
    free(b->p);
    return b->size;
}

int main(int argc, char **argv) {
    long steps = arg_count(argc, argv, 1, 250);
    rng_t r = {64};
    block_t slot[SLOTS] = {0};
    uint64_t check = 0;
    for (long k = 0; k < steps; k++) {
        block_t *b = &slot[rng_below(&r, SLOTS)];
        if (b->p) check += check_and_free(b);
        b->size = rng_log_uniform(&r, 64 * 1024, 64 * 1024 * 1024);
        b->tag = tag_for((uint64_t)k, b->size);
        b->p = xmalloc(b->size);
        touch(b);
    }
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].p) check += check_and_free(&slot[i]);
    printf("ok large steps=%ld bytes=%llu\n", steps, (unsigned long long)check);
    return 0;
}
