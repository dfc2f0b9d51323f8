// prodcons-depth: the `prodcons` workload (Benchmarks/alloc/c/prodcons.c, unchanged) with the greatest depth its
// rings reached, printed to stderr at exit. Its peak RSS is mostly the blocks in flight: a ring that fills holds
// 16,383 blocks (4.7 MB at the workload's mean of 289 bytes), and whether it fills depends on whether the
// consumer keeps up, not on the allocator's overhead alone (BENCHMARKS.md, "Allocator A/B measurements of
// session 12").
// usage: gcc -O2 -pthread prodcons-depth.c -o prodcons-depth && LD_PRELOAD=... ./prodcons-depth [items] [pairs]
#include "../alloc/c/spsc.h"

static uint64_t depth_max;  // producer threads only; a race between pairs may lose a maximum (one pair by default)

static inline void depth_push(spsc_t *q, void *p) {
    uint64_t d = atomic_load_explicit(&q->tail, memory_order_relaxed) - atomic_load_explicit(&q->head, memory_order_relaxed);
    if (d > depth_max) depth_max = d;
    spsc_push(q, p);
}
#define spsc_push depth_push

static void report(void) { fprintf(stderr, "max ring depth %llu of %u\n", (unsigned long long)depth_max, SPSC_CAPACITY); }
__attribute__((constructor)) static void at_start(void) { atexit(report); }

#include "../alloc/c/prodcons.c"
