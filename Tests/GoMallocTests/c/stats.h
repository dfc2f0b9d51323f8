/* A known workload for the GOMALLOC_STATS test (a C program; .h only because SwiftPM refuses .c files in a Swift
   test target). It makes 10,000 100-byte objects and frees 5,000 of them (2,500 from another thread), makes
   6 large (1 MiB) objects and frees 2, and exits with the rest live: 5,000 small and 4 large objects, at least
   5,000 * 100 + 4 MiB bytes. Prints "ok" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 10000 };
static void *small[N];

static void *free_odd_quarter(void *arg) {
    (void)arg;
    for (int i = 1; i < N / 2; i += 2) free(small[i]);
    return NULL;
}

int main(void) {
    for (int i = 0; i < N; i++) {
        small[i] = malloc(100);
        if (!small[i]) return 1;
        memset(small[i], i & 0xff, 100);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, free_odd_quarter, NULL)) return 1;
    pthread_join(t, NULL);
    for (int i = 0; i < N / 2; i += 2) free(small[i]);
    void *large[6];
    for (int i = 0; i < 6; i++) {
        large[i] = malloc(1 << 20);
        if (!large[i]) return 1;
        memset(large[i], 1, 1 << 20);
    }
    free(large[0]);
    free(large[5]);
    printf("ok\n");
    return 0;
}
