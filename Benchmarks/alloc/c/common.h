// Shared helpers for the allocator workloads (Benchmarks/alloc/c/*.c).
//
// Each workload is a plain C program that uses malloc/free/realloc and nothing else from the allocator, so
// `gort bench alloc` can run it unchanged under glibc or with LD_PRELOAD=<allocator>. Every workload:
//   - does a fixed amount of work chosen by its arguments (defaults sized for ~0.2-1 s under glibc on 2 cores);
//   - draws every random choice from a fixed seed, so each run and each allocator sees the same sequence;
//   - stamps what it allocates and verifies the stamps before freeing, so a broken allocator fails loudly
//     (exit 1 with a message) instead of producing a fast, wrong number, and the compiler cannot delete the
//     malloc/free pair as dead code;
//   - prints one line `ok <name> ... check=<hex>` on success.
#ifndef BENCH_ALLOC_COMMON_H
#define BENCH_ALLOC_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE 64

/// Print a message naming the workload and exit 1. Used for verification failures and bad arguments.
__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/// malloc that treats NULL as a failure of the run (the workloads never ask for more than the machine has).
static inline void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) die("malloc(%zu) returned NULL", n);
    return p;
}

/// Make `p` escape: the compiler must assume the pointer and the memory behind it are used, so it cannot
/// elide a malloc/free pair or the stores into the block.
static inline void escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

/// SplitMix64: a tiny, good-enough generator with a 64-bit state. Fixed seeds keep runs identical.
typedef struct { uint64_t s; } rng_t;

static inline uint64_t rng_next(rng_t *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// Uniform in [0, n). The modulo bias is irrelevant here.
static inline uint64_t rng_below(rng_t *r, uint64_t n) { return rng_next(r) % n; }

/// Uniform in [lo, hi].
static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi) { return lo + rng_below(r, hi - lo + 1); }

/// Log-uniform in [lo, hi]: every power of two between them is equally likely, which is how object sizes
/// in real programs spread out.
static inline size_t rng_log_uniform(rng_t *r, size_t lo, size_t hi) {
    unsigned lo_bits = 63 - (unsigned)__builtin_clzll(lo), hi_bits = 63 - (unsigned)__builtin_clzll(hi);
    for (;;) {
        unsigned b = (unsigned)rng_range(r, lo_bits, hi_bits);
        size_t base = (size_t)1 << b;
        size_t n = base + (size_t)rng_below(r, base);
        if (n >= lo && n <= hi) return n;
    }
}

/// The tag a block of `n` bytes carries: depends on the block's identity so swapped or overlapping blocks
/// are caught, not only corrupted ones.
static inline uint64_t tag_for(uint64_t id, size_t n) { return (id * 0x9E3779B97F4A7C15ull) ^ (uint64_t)n ^ 0xA5A5A5A5ull; }

/// Stamp the first and last word of a block (blocks of 8..15 bytes get one word).
static inline void stamp(void *p, size_t n, uint64_t tag) {
    memcpy(p, &tag, 8);
    if (n >= 16) {
        uint64_t t2 = ~tag;
        memcpy((char *)p + n - 8, &t2, 8);
    }
    escape(p);
}

/// Check a stamp written by `stamp`; dies naming the block on mismatch.
static inline void verify(const void *p, size_t n, uint64_t tag, const char *what) {
    uint64_t a, b = ~tag;
    memcpy(&a, p, 8);
    if (n >= 16) memcpy(&b, (const char *)p + n - 8, 8);
    if (a != tag || b != ~tag) die("%s: block %p of %zu bytes was overwritten", what, p, n);
}

/// Parse argv[i] as a positive count, or return `fallback` when absent.
static inline long arg_count(int argc, char **argv, int i, long fallback) {
    if (argc <= i) return fallback;
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end != '\0' || v <= 0) die("argument %d: expected a positive integer, got '%s'", i, argv[i]);
    return v;
}

#endif
