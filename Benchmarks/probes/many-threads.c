// many-threads: resident memory of a process whose threads each allocate a few blocks (BENCHMARKS.md, "Allocator
// A/B measurements of session 11"). N threads (64 KiB stacks) each allocate 40 blocks of 16 B-2 KiB and fill
// them; when all have, the main thread prints its VmRSS; then every thread frees its blocks and exits. A thread
// pool or a thread-per-connection server looks like this: many threads, little allocation on each.
// usage: gcc -O2 -pthread many-threads.c -o many-threads && LD_PRELOAD=... ./many-threads [threads=1000]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t barrier;

static void *work(void *arg) {
    (void)arg;
    void *p[40];
    for (int i = 0; i < 40; i++) {
        size_t n = ((size_t)16 << (i % 8)) + (size_t)(i / 8) * 8;
        p[i] = malloc(n);
        memset(p[i], 1, n);
    }
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 40; i++) free(p[i]);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    pthread_t *t = malloc(sizeof(pthread_t) * (size_t)n);
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, work, NULL)) { perror("pthread_create"); return 1; }
    pthread_barrier_wait(&barrier);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) printf("threads %d %s", n, line);
    if (f) fclose(f);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    free(t);
    return 0;
}
