// thread-batches: many short-lived threads that each allocate a little more than the young threads' budget
// (CABI.swift: 256 calls on the shared cache, then a cache of its own). 50 batches of 100 threads; each thread
// keeps 16 blocks of 16 B-2 KiB, replacing one per step for 200 steps (400 calls), then frees them. A program
// that starts worker threads in waves looks like this; it times what leaving the young threads costs
// (BENCHMARKS.md, "Allocator A/B measurements of session 12").
// usage: gcc -O2 -pthread thread-batches.c -o thread-batches && time LD_PRELOAD=... ./thread-batches [batches=50]
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *run(void *arg) {
    void *p[16] = {0};
    for (int i = 0; i < 200; i++) {
        int k = i & 15;
        free(p[k]);
        p[k] = malloc(16 + (size_t)(i * 37) % 2000);
        if (p[k] == NULL) abort();
        memset(p[k], 1, 16);
    }
    for (int k = 0; k < 16; k++) free(p[k]);
    return arg;
}

int main(int argc, char **argv) {
    int batches = argc > 1 ? atoi(argv[1]) : 50;
    for (int b = 0; b < batches; b++) {
        pthread_t t[100];
        for (int i = 0; i < 100; i++) if (pthread_create(&t[i], NULL, run, NULL)) abort();
        for (int i = 0; i < 100; i++) pthread_join(t[i], NULL);
    }
    return 0;
}
