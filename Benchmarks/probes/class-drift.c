// class-drift: memory when each size class is freed from another thread and never used again. Each round a
// short-lived thread mallocs MB megabytes of one size and touches them, then another thread frees them all
// (remote frees into spans no cache holds once the first thread has exited), and the next round uses another
// size. Live data never exceeds MB; RSS should not grow with the rounds. Prints RSS and VmSize every 20 rounds.
// BENCHMARKS.md, "Measurements of session 17" (a helper's drift test; before allocSpan swept pending spans
// before growing the heap, libGoMalloc.so reached 901 MB for 20 MB live with GODEBUG=bgscavenge=0).
// usage: gcc -O2 -pthread class-drift.c -o class-drift && LD_PRELOAD=... ./class-drift [rounds=200] [MB=20]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **blocks;
static size_t count, size;

static long statm_kb(int field) {
    FILE *f = fopen("/proc/self/statm", "r");
    long v[2] = {0, 0};
    if (f == NULL || fscanf(f, "%ld %ld", &v[0], &v[1]) != 2) return -1;
    fclose(f);
    return v[field] * 4;
}

static void *produce(void *arg) {
    (void)arg;
    for (size_t i = 0; i < count; i++) {
        blocks[i] = malloc(size);
        if (blocks[i] == NULL) { fprintf(stderr, "malloc(%zu) failed\n", size); exit(1); }
        memset(blocks[i], 1, size);
    }
    return NULL;
}

static void *consume(void *arg) {
    (void)arg;
    for (size_t i = 0; i < count; i++) free(blocks[i]);
    return NULL;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    size_t live = (size_t)(argc > 2 ? atoi(argv[2]) : 20) << 20;
    blocks = malloc(sizeof(void *) * (live / 8));
    if (blocks == NULL) return 1;
    for (int r = 0; r < rounds; r++) {
        size = 8 + ((size_t)r * 97) % 30000;  // a different size, and mostly a different class, each round
        count = live / size;
        pthread_t p, c;
        pthread_create(&p, NULL, produce, NULL);
        pthread_join(p, NULL);
        pthread_create(&c, NULL, consume, NULL);
        pthread_join(c, NULL);
        if (r % 20 == 19) printf("round %d size %zu rss %ld MB vsz %ld MB\n", r + 1, size, statm_kb(1) >> 10, statm_kb(0) >> 10);
    }
    return 0;
}
