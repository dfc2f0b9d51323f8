// A bounded single-producer/single-consumer ring of pointers, for the cross-thread workloads.
//
// `head` is written only by the consumer and `tail` only by the producer; each is read by the other side with
// acquire ordering so the slot contents written before the release store are visible. They sit on separate
// cache lines so the ring itself does not false-share. A full or empty ring makes the waiting side yield:
// the machine this runs on may have fewer cores than threads.
#ifndef BENCH_ALLOC_SPSC_H
#define BENCH_ALLOC_SPSC_H

#include <sched.h>
#include <stdatomic.h>

#include "common.h"

#define SPSC_CAPACITY 16384u  // power of two; deep enough that a descheduled peer rarely stalls the other side

typedef struct {
    _Alignas(CACHE_LINE) _Atomic uint64_t head;  // next slot to pop; consumer writes (release), producer reads (acquire)
    _Alignas(CACHE_LINE) _Atomic uint64_t tail;  // next slot to push; producer writes (release), consumer reads (acquire)
    _Alignas(CACHE_LINE) void *slot[SPSC_CAPACITY];
} spsc_t;

static inline void spsc_push(spsc_t *q, void *p) {
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);  // own field
    while (t - atomic_load_explicit(&q->head, memory_order_acquire) == SPSC_CAPACITY) sched_yield();
    q->slot[t & (SPSC_CAPACITY - 1)] = p;
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
}

static inline void *spsc_pop(spsc_t *q) {
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);  // own field
    while (atomic_load_explicit(&q->tail, memory_order_acquire) == h) sched_yield();
    void *p = q->slot[h & (SPSC_CAPACITY - 1)];
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    return p;
}

#endif
