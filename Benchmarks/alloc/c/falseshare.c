// falseshare: small blocks from different threads landing on one cache line.
//
// Two phases, each with THREADS threads (after Hoard's cache-thrash and cache-scratch tests). A round
// allocates 8 objects of 8 bytes, increments each of them WRITES times in turn, verifies and frees them.
//   active:  each thread runs ROUNDS rounds from the start. If the allocator hands threads neighbouring
//            blocks, their cache lines ping-pong between cores.
//   passive: first the main thread allocates 8 objects per thread, interleaved (object k goes to thread
//            k % THREADS, so neighbours belong to different threads), and hands them out; each thread frees
//            its 8 and then runs its rounds. An allocator that gives a freed block straight back to the
//            thread that freed it keeps the threads writing to the main thread's shared lines.
// With no false sharing, both phases cost only the increments (a few ms each).
//
// usage: falseshare [rounds-per-thread=8000] [threads=2] [writes=2000]
#include <pthread.h>

#include "common.h"

#define OBJS 8

typedef struct {
    _Alignas(CACHE_LINE) long rounds, writes;
    uint64_t *handed[OBJS];  // passive phase: the objects the main thread allocated for this thread
    uint64_t check;
} worker_t;

static void *work(void *arg) {
    worker_t *w = arg;
    for (int i = 0; i < OBJS; i++) free(w->handed[i]);  // free(NULL) in the active phase
    uint64_t sum = 0;
    volatile uint64_t *p[OBJS];
    for (long k = 0; k < w->rounds; k++) {
        for (int i = 0; i < OBJS; i++) p[i] = xmalloc(8), *p[i] = 0;
        for (long j = 0; j < w->writes; j++)
            for (int i = 0; i < OBJS; i++) *p[i] = *p[i] + 1;
        for (int i = 0; i < OBJS; i++) {
            if (*p[i] != (uint64_t)w->writes)
                die("falseshare: object %p counted %llu, expected %ld", (void *)p[i], (unsigned long long)*p[i], w->writes);
            sum += (uintptr_t)p[i] & (CACHE_LINE - 1);
            free((void *)p[i]);
        }
    }
    w->check = sum;
    return NULL;
}

static uint64_t phase(long nthreads, long rounds, long writes, int passive) {
    worker_t *ws = aligned_alloc(CACHE_LINE, sizeof(worker_t) * (size_t)nthreads);
    pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nthreads);
    if (!ws) die("aligned_alloc");
    for (long i = 0; i < nthreads; i++) ws[i] = (worker_t){.rounds = rounds, .writes = writes};
    if (passive)
        for (int k = 0; k < OBJS; k++)
            for (long i = 0; i < nthreads; i++) ws[i].handed[k] = xmalloc(8), *ws[i].handed[k] = 0;
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, work, &ws[i])) die("pthread_create");
    uint64_t check = 0;
    for (long i = 0; i < nthreads; i++) pthread_join(th[i], NULL), check += ws[i].check;
    free(ws), free(th);
    return check;
}

int main(int argc, char **argv) {
    long rounds = arg_count(argc, argv, 1, 8000);
    long nthreads = arg_count(argc, argv, 2, 2);
    long writes = arg_count(argc, argv, 3, 2000);
    uint64_t check = phase(nthreads, rounds, writes, 0);
    check = check * 31 + phase(nthreads, rounds, writes, 1);
    printf("ok falseshare threads=%ld rounds=%ld writes=%ld check=%llx\n", nthreads, rounds, writes,
           (unsigned long long)check);
    return 0;
}
