// threads: many threads, each with a private working set.
//
// THREADS threads each own a table of 4096 slots and do OPS steps: pick a random slot, verify and free its
// block, allocate a new one of a random size (8 B-2 KiB, log-uniform) and stamp it. No block ever crosses a
// thread, so an allocator with true per-thread caches scales linearly: with per-thread work fixed, 2 threads
// on 2 idle cores should take the same wall time as 1 (the scaling bar compares threads-2 to threads-1).
// Shared locks, shared counters or false sharing inside the allocator show up as extra time.
//
// usage: threads [threads=1] [ops-per-thread=4000000]
#include <pthread.h>

#include "common.h"

#define SLOTS 4096

typedef struct {
    _Alignas(CACHE_LINE) long ops;
    uint64_t seed;
    uint64_t check;
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    void **slot = xmalloc(sizeof(void *) * SLOTS);
    uint32_t *size = xmalloc(sizeof(uint32_t) * SLOTS);
    uint64_t *tag = xmalloc(sizeof(uint64_t) * SLOTS);
    rng_t r = {w->seed};
    for (int i = 0; i < SLOTS; i++) {
        size[i] = (uint32_t)rng_log_uniform(&r, 8, 2048);
        tag[i] = tag_for(w->seed + (uint64_t)i, size[i]);
        slot[i] = xmalloc(size[i]);
        stamp(slot[i], size[i], tag[i]);
    }
    uint64_t sum = 0;
    for (long k = 0; k < w->ops; k++) {
        uint32_t i = (uint32_t)rng_below(&r, SLOTS);
        verify(slot[i], size[i], tag[i], "threads");
        free(slot[i]);
        size[i] = (uint32_t)rng_log_uniform(&r, 8, 2048);
        tag[i] = tag_for(w->seed ^ (uint64_t)k, size[i]);
        slot[i] = xmalloc(size[i]);
        stamp(slot[i], size[i], tag[i]);
        sum += size[i];
    }
    for (int i = 0; i < SLOTS; i++) verify(slot[i], size[i], tag[i], "threads"), free(slot[i]);
    free(slot), free(size), free(tag);
    w->check = sum;
    return NULL;
}

int main(int argc, char **argv) {
    long nthreads = arg_count(argc, argv, 1, 1);
    long ops = arg_count(argc, argv, 2, 4000000);
    worker_t *ws = aligned_alloc(CACHE_LINE, sizeof(worker_t) * (size_t)nthreads);
    pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nthreads);
    if (!ws) die("aligned_alloc");
    for (long i = 0; i < nthreads; i++) {
        ws[i] = (worker_t){.ops = ops, .seed = 77 + (uint64_t)i};
        if (pthread_create(&th[i], NULL, work, &ws[i])) die("pthread_create");
    }
    uint64_t check = 0;
    for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL), check += ws[i].check;
    free(ws), free(th);
    printf("ok threads threads=%ld ops=%ld check=%llx\n", nthreads, ops, (unsigned long long)check);
    return 0;
}
