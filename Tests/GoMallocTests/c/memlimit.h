/* GOMEMLIMIT through libGoMalloc.so (a C program; .h only because SwiftPM refuses .c files in a Swift test
   target). Makes 96 one-MiB blocks and touches them, frees them all, then makes one 3000-byte object (a size
   class nothing used yet, so the heap allocates a span and checks the limit) and prints the resident set in KiB
   from /proc/self/statm: "rss <KiB>". Exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    enum { N = 96 };
    void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(1 << 20);
        if (!blocks[i]) return 1;
        memset(blocks[i], i + 1, 1 << 20);
    }
    for (int i = 0; i < N; i++) free(blocks[i]);
    char *p = malloc(3000);
    if (!p) return 1;
    p[0] = 1;
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) return 1;
    fclose(f);
    printf("rss %ld\n", resident * (sysconf(_SC_PAGESIZE) / 1024));
    free(p);
    return 0;
}
