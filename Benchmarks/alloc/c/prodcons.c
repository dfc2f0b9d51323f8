// prodcons: producer/consumer threads that free each other's blocks.
//
// PAIRS producer threads each allocate ITEMS blocks (16 B-1 KiB, log-uniform, fixed seed per pair), stamp
// them and pass them through a ring to their consumer thread, which verifies and frees them. Every free is
// a remote free: the block belongs to another thread's cache or heap, the case per-thread caches handle
// worst (glibc's arenas lock; mimalloc and Go batch remote frees onto the owning page or span). Halfway
// through, each pair swaps roles, so both threads hold blocks freed by the other.
//
// usage: prodcons [items-per-producer=1500000] [pairs=1]
#include <pthread.h>

#include "spsc.h"

typedef struct {
    spsc_t ring[2];  // ring[0]: a -> b, ring[1]: b -> a
    long items;
    uint64_t seed;
    uint64_t check[2];
} pair_t;

typedef struct {
    pair_t *pair;
    int side;  // 0 or 1
} role_t;

typedef struct {
    uint64_t id;
    uint32_t size;
} hdr_t;  // first 16 bytes of every block; the rest is stamped

static void produce(spsc_t *q, long items, uint64_t seed) {
    rng_t r = {seed};
    for (long i = 0; i < items; i++) {
        size_t size = rng_log_uniform(&r, 24, 1024);
        hdr_t *h = xmalloc(size);
        h->id = (uint64_t)i, h->size = (uint32_t)size;
        stamp((char *)h + sizeof(hdr_t), size - sizeof(hdr_t), tag_for(seed + (uint64_t)i, size));
        spsc_push(q, h);
    }
}

static uint64_t consume(spsc_t *q, long items, uint64_t seed) {
    uint64_t sum = 0;
    for (long i = 0; i < items; i++) {
        hdr_t *h = spsc_pop(q);
        if (h->id != (uint64_t)i) die("prodcons: expected item %ld, got %llu", i, (unsigned long long)h->id);
        verify((char *)h + sizeof(hdr_t), h->size - sizeof(hdr_t), tag_for(seed + h->id, h->size), "prodcons");
        sum += h->size;
        free(h);
    }
    return sum;
}

static void *run(void *arg) {
    role_t *role = arg;
    pair_t *p = role->pair;
    long half = p->items / 2;
    // Phase 1: side 0 produces into ring[0], side 1 consumes it. Phase 2: the other way round.
    for (int phase = 0; phase < 2; phase++) {
        int producer = (phase == role->side);
        spsc_t *q = &p->ring[phase];
        uint64_t seed = p->seed * 2 + (uint64_t)phase;
        if (producer) produce(q, half, seed);
        else p->check[role->side] += consume(q, half, seed);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long items = arg_count(argc, argv, 1, 1500000);
    long pairs = arg_count(argc, argv, 2, 1);
    pair_t *ps = aligned_alloc(CACHE_LINE, sizeof(pair_t) * (size_t)pairs);
    role_t *roles = xmalloc(sizeof(role_t) * 2 * (size_t)pairs);
    pthread_t *th = xmalloc(sizeof(pthread_t) * 2 * (size_t)pairs);
    if (!ps) die("aligned_alloc");
    memset(ps, 0, sizeof(pair_t) * (size_t)pairs);
    for (long i = 0; i < pairs; i++) {
        ps[i].items = items, ps[i].seed = 1000 + (uint64_t)i;
        for (int s = 0; s < 2; s++) {
            roles[2 * i + s] = (role_t){&ps[i], s};
            if (pthread_create(&th[2 * i + s], NULL, run, &roles[2 * i + s])) die("pthread_create");
        }
    }
    uint64_t check = 0;
    for (long i = 0; i < 2 * pairs; i++) pthread_join(th[i], NULL);
    for (long i = 0; i < pairs; i++) check += ps[i].check[0] + ps[i].check[1];
    free(ps), free(roles), free(th);
    printf("ok prodcons items=%ld pairs=%ld check=%llx\n", items, pairs, (unsigned long long)check);
    return 0;
}
