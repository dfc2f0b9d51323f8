// prodcons-depth: the `prodcons` workload (Benchmarks/alloc/c/prodcons.c, unchanged) with its rings' depth,
// printed to stderr at exit: the greatest depth reached, the mean depth a push saw, the share of pushes that
// found the ring full and how many pops found it empty. Its peak RSS is mostly the blocks in flight: a ring that
// fills holds 16,383 blocks (4.7 MB at the workload's mean of 289 bytes), and whether it fills depends on whether
// the consumer keeps up, not on the allocator's overhead alone (BENCHMARKS.md, "Allocator A/B measurements of
// session 12", "Measurements of session 18").
// usage: gcc -O2 -pthread prodcons-depth.c -o prodcons-depth && LD_PRELOAD=... ./prodcons-depth [items] [pairs]
#include "../alloc/c/spsc.h"

// Producer and consumer threads each update their own counters; with several pairs, races between pairs may
// lose counts (one pair by default).
static uint64_t depth_max, depth_sum, pushes, pushes_full, pops_empty;

static inline void depth_push(spsc_t *q, void *p) {
    uint64_t d = atomic_load_explicit(&q->tail, memory_order_relaxed) - atomic_load_explicit(&q->head, memory_order_relaxed);
    if (d > depth_max) depth_max = d;
    depth_sum += d, pushes++;
    if (d >= SPSC_CAPACITY) pushes_full++;
    spsc_push(q, p);
}

static inline void *depth_pop(spsc_t *q) {
    if (atomic_load_explicit(&q->tail, memory_order_acquire) == atomic_load_explicit(&q->head, memory_order_relaxed))
        pops_empty++;
    return spsc_pop(q);
}
#define spsc_push depth_push
#define spsc_pop depth_pop

static void report(void) {
    fprintf(stderr, "max ring depth %llu of %u, mean %.0f, pushes finding it full %.3f, pops finding it empty %llu\n",
            (unsigned long long)depth_max, SPSC_CAPACITY, pushes ? (double)depth_sum / (double)pushes : 0.0,
            pushes ? (double)pushes_full / (double)pushes : 0.0, (unsigned long long)pops_empty);
}
__attribute__((constructor)) static void at_start(void) { atexit(report); }

#include "../alloc/c/prodcons.c"
