// batch: N allocations, then N frees, in three free orders.
//
// For sizes 16 B .. 4 KiB, each round allocates BATCH blocks of one size, stamps them, then frees them all in
// allocation order (FIFO), then again allocates and frees in reverse order (LIFO), then in a shuffled order.
// This is the "build a list, drop the list" shape: it drains and refills the allocator's per-thread caches
// and makes it fetch and return whole spans/pages, not only cached blocks.
//
// usage: batch [rounds=4] [batch=20000]
#include "common.h"

static const size_t sizes[] = {16, 32, 64, 128, 256, 512, 1024, 4096};

static void fill(void **v, long n, size_t size, uint64_t round) {
    for (long i = 0; i < n; i++) {
        v[i] = xmalloc(size);
        stamp(v[i], size, tag_for(round * 1000003u + (uint64_t)i, size));
    }
}

static void drain(void **v, const long *order, long n, size_t size, uint64_t round) {
    for (long k = 0; k < n; k++) {
        long i = order[k];
        verify(v[i], size, tag_for(round * 1000003u + (uint64_t)i, size), "batch");
        free(v[i]);
    }
}

int main(int argc, char **argv) {
    long rounds = arg_count(argc, argv, 1, 4);
    long n = arg_count(argc, argv, 2, 20000);
    void **v = xmalloc(sizeof(void *) * (size_t)n);
    long *fifo = xmalloc(sizeof(long) * (size_t)n), *lifo = xmalloc(sizeof(long) * (size_t)n);
    long *shuffled = xmalloc(sizeof(long) * (size_t)n);
    rng_t r = {42};
    for (long i = 0; i < n; i++) fifo[i] = i, lifo[i] = n - 1 - i, shuffled[i] = i;
    for (long i = n - 1; i > 0; i--) {
        long j = (long)rng_below(&r, (uint64_t)i + 1), t = shuffled[i];
        shuffled[i] = shuffled[j], shuffled[j] = t;
    }
    uint64_t round = 0, check = 0;
    for (long k = 0; k < rounds; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            const long *orders[] = {fifo, lifo, shuffled};
            for (int o = 0; o < 3; o++, round++) {
                fill(v, n, sizes[s], round);
                check += (uintptr_t)v[n / 2] & 0xFFF;
                drain(v, orders[o], n, sizes[s], round);
            }
        }
    }
    free(v), free(fifo), free(lifo), free(shuffled);
    printf("ok batch rounds=%ld batch=%ld check=%llx\n", rounds, n, (unsigned long long)check);
    return 0;
}
