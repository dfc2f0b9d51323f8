// lifo-batches: producers allocate batches of small blocks and push them on a bounded stack; consumers pop the
// newest batch and free its blocks. The shape of mimalloc-bench's xmalloc-test (Lever and Boreham), written
// anew: with a last-in first-out hand-over the oldest batches stay at the bottom of the stack, so the spans a
// producer filled first stay full while later ones empty out of order. Prints frees per second; run under
// /usr/bin/time for the peak RSS (BENCHMARKS.md, "Measurements of session 15").
//
// usage: gcc -O2 -pthread lifo-batches.c -o lifo-batches && LD_PRELOAD=... ./lifo-batches [seconds=1] [size=64] [pairs=2]
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_BATCH 4096
#define MAX_BATCHES 100

typedef struct batch { struct batch *next; void *blocks[PER_BATCH]; } batch_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static batch_t *top;
static int depth;
static atomic_int stop;
static atomic_long freed;
static size_t size = 64;

static void *producer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        batch_t *b = malloc(sizeof *b);
        if (!b) abort();
        for (int i = 0; i < PER_BATCH; i++) {
            b->blocks[i] = malloc(size);
            if (!b->blocks[i]) abort();
            memset(b->blocks[i], i & 0xff, size < 128 ? size : 128);
        }
        pthread_mutex_lock(&lock);
        while (depth >= MAX_BATCHES && !atomic_load(&stop)) pthread_cond_wait(&not_full, &lock);
        b->next = top, top = b, depth++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!top && !atomic_load(&stop)) pthread_cond_wait(&not_empty, &lock);
        batch_t *b = top;
        if (b) top = b->next, depth--, pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        if (!b) return NULL;
        for (int i = 0; i < PER_BATCH; i++) free(b->blocks[i]);
        free(b);
        atomic_fetch_add(&freed, PER_BATCH);
    }
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1;
    size = argc > 2 ? (size_t)atol(argv[2]) : 64;
    int pairs = argc > 3 ? atoi(argv[3]) : 2;
    pthread_t th[64];
    if (pairs < 1 || pairs > 32) return 2;
    for (int i = 0; i < pairs; i++) {
        pthread_create(&th[2 * i], NULL, consumer, NULL);
        pthread_create(&th[2 * i + 1], NULL, producer, NULL);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&not_empty), pthread_cond_broadcast(&not_full);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 2 * pairs; i++) pthread_join(th[i], NULL);
    // What is left on the stack stays allocated until exit, as in xmalloc-test.
    printf("lifo-batches size=%zu pairs=%d frees/s %.1f M\n", size, pairs, (double)atomic_load(&freed) / seconds / 1e6);
    return 0;
}
