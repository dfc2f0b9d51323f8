/* Multi-threaded malloc stress, not a benchmark. A C program (named .h only because SwiftPM refuses .c files in a
   Swift test target).

   Usage: stress THREADS ROUNDS SEED
   Each thread runs ROUNDS steps from its own fixed seed (SEED + thread number). A step picks a slot in the
   thread's table and, depending on the draw: allocates a block (malloc, calloc, posix_memalign or
   aligned_alloc; sizes 0 to 6 MiB, mostly small), grows or shrinks it with realloc (a chain: each step on a slot
   may realloc it again), frees it, or hands it to the shared queue, from which any thread takes blocks and frees
   them (cross-thread frees). Every block is filled with a pattern derived from a per-block tag; the pattern is
   checked before every free and after every realloc, and calloc'd memory is checked to be zero. Any mismatch
   prints a FAIL line and exits 1. At the end it prints totals and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *p;
    size_t n;
    uint32_t tag;
} block;

/* The pattern: 8-byte word w of a block with tag t is word(t, w), so filling and checking run a word at a time;
   different for neighbouring blocks and offsets. Byte i is byte i % 8 of word i / 8 (little-endian). */
static inline uint64_t word(uint32_t tag, size_t w) {
    return ((uint64_t)tag * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)w * 0xbf58476d1ce4e5b9ull) ^ (w >> 7);
}
static inline unsigned char pat(uint32_t tag, size_t i) { return (unsigned char)(word(tag, i / 8) >> (8 * (i % 8))); }

static void fill(block *b, size_t from) {
    size_t i = from;
    for (; i < b->n && i % 8; i++) b->p[i] = pat(b->tag, i);
    for (; i + 8 <= b->n; i += 8) {
        uint64_t v = word(b->tag, i / 8);
        memcpy(b->p + i, &v, 8);
    }
    for (; i < b->n; i++) b->p[i] = pat(b->tag, i);
}

static void die(const char *what, const block *b, size_t at) {
    printf("FAIL %s: block %p size %zu tag %u: byte %zu is 0x%02x, want 0x%02x\n", what, (void *)b->p, b->n,
           b->tag, at, b->p[at], pat(b->tag, at));
    fflush(stdout);
    exit(1);
}

/* Checks the first n bytes of b. */
static void check(const block *b, size_t n, const char *what) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, b->p + i, 8);
        if (v != word(b->tag, i / 8)) break;
    }
    for (; i < n; i++)
        if (b->p[i] != pat(b->tag, i)) die(what, b, i);
}

static uint64_t next(uint64_t *s) { /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static size_t draw_size(uint64_t *s) {
    uint64_t r = next(s);
    unsigned bucket = r % 1000;
    r >>= 10;
    if (bucket < 600) return r % 129;                          /* tiny and small: 0..128 */
    if (bucket < 900) return 129 + r % 4000;                   /* small */
    if (bucket < 985) return 4129 + r % 60000;                 /* up to and past the 32 KiB small limit */
    if (bucket < 999) return 65536 + r % (1 << 20);            /* large */
    return ((size_t)1 << 20) + r % ((size_t)5 << 20);          /* several MiB */
}

/* The shared queue of blocks waiting to be freed by some other thread. */
enum { QCAP = 4096 };
static block queue[QCAP];
static size_t qhead, qlen;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;

static int qpush(block b) {
    pthread_mutex_lock(&qlock);
    int ok = qlen < QCAP;
    if (ok) { queue[(qhead + qlen) % QCAP] = b; qlen++; }
    pthread_mutex_unlock(&qlock);
    return ok;
}
static int qpop(block *b) {
    pthread_mutex_lock(&qlock);
    int ok = qlen > 0;
    if (ok) { *b = queue[qhead]; qhead = (qhead + 1) % QCAP; qlen--; }
    pthread_mutex_unlock(&qlock);
    return ok;
}

static long rounds;
static uint64_t base_seed;
static long totals[6]; /* allocs, frees, reallocs, remote frees, callocs, aligned */
static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;

static void release(block *b, const char *what) {
    check(b, b->n, what);
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

enum { SLOTS = 256 };

static void *worker(void *arg) {
    long id = (long)(intptr_t)arg;
    uint64_t s = base_seed * 0x9e3779b97f4a7c15ull + (uint64_t)id + 1;
    uint32_t tags = (uint32_t)id << 24;
    block slots[SLOTS];
    memset(slots, 0, sizeof slots);
    long n[6] = {0};
    for (long r = 0; r < rounds; r++) {
        uint64_t x = next(&s);
        block *b = &slots[x % SLOTS];
        unsigned op = (x >> 16) % 100;
        if (b->p && op < 25) { /* realloc chain: grow or shrink, keep the prefix, refill the rest */
            size_t m = (op & 1) ? draw_size(&s) : b->n / 2 + 1;
            if (m == 0) { /* realloc(p, 0) frees p (and returns NULL, as glibc does, or a unique pointer) */
                check(b, b->n, "before realloc(p, 0)");
                void *z = realloc(b->p, 0);
                free(z);
                b->p = NULL;
                b->n = 0;
                n[1]++;
                continue;
            }
            unsigned char *q = realloc(b->p, m);
            if (!q) { printf("FAIL realloc(%p, %zu) = NULL errno %d\n", (void *)b->p, m, errno); exit(1); }
            size_t keep = b->n < m ? b->n : m;
            b->p = q;
            check(b, keep, "after realloc");
            b->n = m;
            fill(b, keep);
            n[2]++;
            continue;
        }
        if (b->p && op < 45) {
            if (qpush(*b)) { b->p = NULL; b->n = 0; }
            else release(b, "before free (queue full)");
        } else if (b->p) {
            release(b, "before free");
            n[1]++;
        }
        block popped;
        for (int k = 0; k < 2 && qpop(&popped); k++) { release(&popped, "before remote free"); n[3]++; }

        size_t m = draw_size(&s);
        unsigned how = (x >> 40) % 10;
        unsigned char *p;
        if (how == 0) {
            p = calloc(1, m);
            for (size_t i = 0; p && i < m; i++)
                if (p[i]) { printf("FAIL calloc(1, %zu) = %p: byte %zu is 0x%02x\n", m, (void *)p, i, p[i]); exit(1); }
            n[4]++;
        } else if (how == 1) {
            size_t a = (size_t)8 << ((x >> 48) % 12); /* 8 .. 16 KiB */
            void *v = NULL;
            int rc = posix_memalign(&v, a, m);
            if (rc) { printf("FAIL posix_memalign(%zu, %zu) = %d\n", a, m, rc); exit(1); }
            if ((uintptr_t)v & (a - 1)) { printf("FAIL posix_memalign(%zu, %zu) = %p misaligned\n", a, m, v); exit(1); }
            p = v;
            n[5]++;
        } else if (how == 2) {
            size_t a = (size_t)16 << ((x >> 48) % 9); /* 16 .. 4 KiB */
            p = aligned_alloc(a, m);
            if (p && ((uintptr_t)p & (a - 1))) { printf("FAIL aligned_alloc(%zu, %zu) = %p\n", a, m, (void *)p); exit(1); }
            n[5]++;
        } else {
            p = malloc(m);
        }
        if (!p) { printf("FAIL allocation of %zu bytes = NULL errno %d\n", m, errno); exit(1); }
        if (((uintptr_t)p & (m >= 16 ? 15 : 7)) != 0) { printf("FAIL %p for %zu bytes misaligned\n", (void *)p, m); exit(1); }
        if (malloc_usable_size(p) < m) { printf("FAIL usable size %zu < %zu\n", malloc_usable_size(p), m); exit(1); }
        b->p = p;
        b->n = m;
        b->tag = ++tags;
        fill(b, 0);
        n[0]++;
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) { release(&slots[i], "before final free"); n[1]++; }
    pthread_mutex_lock(&tlock);
    for (int i = 0; i < 6; i++) totals[i] += n[i];
    pthread_mutex_unlock(&tlock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: stress THREADS ROUNDS SEED\n"); return 2; }
    int threads = atoi(argv[1]);
    rounds = atol(argv[2]);
    base_seed = strtoull(argv[3], NULL, 10);
    if (threads < 1 || threads > 256 || rounds < 1) { fprintf(stderr, "stress: bad arguments\n"); return 2; }
    pthread_t th[256];
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i)) { printf("FAIL pthread_create\n"); return 1; }
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    block b;
    while (qpop(&b)) { release(&b, "before final remote free"); totals[3]++; }
    printf("ok threads=%d rounds=%ld allocs=%ld frees=%ld reallocs=%ld remote_frees=%ld callocs=%ld aligned=%ld\n",
           threads, rounds, totals[0], totals[1], totals[2], totals[3], totals[4], totals[5]);
    return 0;
}
