// touch-pages: how long this machine takes to fault in 1.3 GB of fresh anonymous memory, one write per 4 KiB
// page, on one thread: the memory spawn-join's 1,000,000 Swift tasks keep until their join (BENCHMARKS.md).
// usage: gcc -O2 touch-pages.c -o touch-pages && ./touch-pages
#include <sys/mman.h>
#include <stdio.h>
#include <time.h>
int main(void) {
    size_t n = 1300ul << 20;
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("touched 1.3 GB in %.3f s\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
