// prodcons-full: the `prodcons` workload (Benchmarks/alloc/c/prodcons.c, unchanged) with each consumer waiting,
// before its first pop, until its ring is full. Every allocator then holds the same 16,384 blocks in flight at
// that moment, so peak RSS compares the allocators' overhead at equal live data instead of which thread of the
// pair happened to be faster (Benchmarks/probes/prodcons-depth.c shows that race; BENCHMARKS.md, "Allocator
// measurements of session 14").
// usage: gcc -O2 -pthread prodcons-full.c -o prodcons-full && LD_PRELOAD=... ./prodcons-full [items] [pairs]
#include "../alloc/c/spsc.h"

static inline void *full_pop(spsc_t *q) {
    if (atomic_load_explicit(&q->head, memory_order_relaxed) == 0) {
        while (atomic_load_explicit(&q->tail, memory_order_acquire) < SPSC_CAPACITY) sched_yield();
    }
    return spsc_pop(q);
}
#define spsc_pop full_pop

#include "../alloc/c/prodcons.c"
