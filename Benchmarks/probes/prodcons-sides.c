// prodcons-sides: each side of `prodcons` (Benchmarks/alloc/c/prodcons.c) timed alone, to show which side is the
// slower one. Whether prodcons's ring fills, and so its peak RSS, depends on that (BENCHMARKS.md, "Allocator
// measurements of session 17").
//
// Two threads take turns, ROUNDS times: the producer allocates and stamps N blocks (prodcons's sizes: 24 B to
// 1 KiB, log-uniform, fixed seed) while the consumer waits; then the consumer verifies and frees them, every
// free a remote one, while the producer waits. The first round is a warm-up. Prints ns per block for each side.
// With NOFREE=1 the consumer only verifies (it leaks): the consumer's time minus that is the remote free's.
//
// usage: gcc -O2 -pthread prodcons-sides.c -o prodcons-sides && LD_PRELOAD=... ./prodcons-sides [lo hi]
#include <pthread.h>
#include <time.h>

#include "../alloc/c/common.h"

#define N 200000
#define ROUNDS 10

static void *blk[N];
static size_t sz[N];
static pthread_barrier_t turn;
static double producerTime, consumerTime;
static size_t lo = 24, hi = 1024;
static int nofree;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *producer(void *arg) {
    (void)arg;
    rng_t r = {42};
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(&turn);  // the consumer has finished the last batch
        double t = now();
        for (int i = 0; i < N; i++) {
            size_t s = lo == hi ? lo : rng_log_uniform(&r, lo, hi);
            blk[i] = xmalloc(s), sz[i] = s;
            stamp(blk[i], s, tag_for((uint64_t)i, s));
        }
        if (round > 0) producerTime += now() - t;
        pthread_barrier_wait(&turn);  // hand the batch over
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(&turn);
        pthread_barrier_wait(&turn);  // the batch is ready
        double t = now();
        for (int i = 0; i < N; i++) {
            verify(blk[i], sz[i], tag_for((uint64_t)i, sz[i]), "prodcons-sides");
            if (!nofree) free(blk[i]);
        }
        if (round > 0) consumerTime += now() - t;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 2) lo = (size_t)atol(argv[1]), hi = (size_t)atol(argv[2]);
    if (lo < 16 || hi < lo) die("prodcons-sides: sizes must be 16 <= lo <= hi");
    const char *e = getenv("NOFREE");
    nofree = e != NULL && strcmp(e, "1") == 0;
    pthread_barrier_init(&turn, NULL, 2);
    pthread_t p, c;
    pthread_create(&p, NULL, producer, NULL);
    pthread_create(&c, NULL, consumer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    double per = 1e9 / ((ROUNDS - 1) * (double)N);
    printf("producer %.1f ns/block, consumer %.1f ns/block%s\n", producerTime * per, consumerTime * per,
           nofree ? " (verify only, no free)" : "");
    return 0;
}
