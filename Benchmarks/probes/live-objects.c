// live-objects: mallocs N blocks of 24-136 bytes, keeps them all live, then frees them. Under
// GODEBUG=allocchecks=1 it shows what the heap-invariant checks cost as the live heap grows (BENCHMARKS.md,
// "Allocator measurements of session 14").
// usage: gcc -O2 live-objects.c -o live-objects && GODEBUG=allocchecks=1 LD_PRELOAD=... ./live-objects N
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    void **p = malloc((size_t)n * sizeof(void *));
    if (!p) return 1;
    for (long i = 0; i < n; i++) p[i] = malloc(24 + (size_t)(i % 8) * 16);
    for (long i = 0; i < n; i++) free(p[i]);
    free(p);
    puts("ok");
    return 0;
}
