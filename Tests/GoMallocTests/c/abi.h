/* C ABI semantics of the process's malloc, checked from the outside. Not a header: a C program, named .h only
   because SwiftPM refuses .c files in a Swift test target (mixed-language target) and warns about unknown
   extensions; the test compiles it with `gcc -x c -O1 -fno-builtin`.

   Usage: abi CHECK   (CHECK: a name from the table at the bottom, or "all")
   Prints "ok CHECK" and exits 0 when every expectation holds; otherwise prints one "FAIL ..." line per broken
   expectation and exits 1. Every expectation is also what glibc does, so the program passes without the preload
   too (the test runs it both ways: that proves the checks themselves are right).
   With GOMALLOC_EXPECT=1 it first checks that malloc really is libGoMalloc.so's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures, check_failures; /* in all, and in the running check (only its first 10 are printed) */

#define EXPECT(cond, ...)                                                                       \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            failures++;                                                                         \
            if (++check_failures <= 10) {                                                       \
                printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);                          \
                printf(__VA_ARGS__);                                                            \
                printf("\n");                                                                   \
                fflush(stdout);                                                                 \
            }                                                                                   \
        }                                                                                       \
    } while (0)

static int aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* Hides a constant from the compiler, so impossible sizes do not draw -Walloc-size-larger-than warnings. */
static size_t opaque(size_t x) {
    volatile size_t v = x;
    return v;
}

/* Keeps the compiler from reasoning about the allocator's results (we compile -fno-builtin anyway). */
static void *volatile sink;

/* Sizes worth trying: every size up to 1 KiB, then around every power of two, up to 8 MiB. */
static size_t nsizes;
static size_t sizes[4096];
static void init_sizes(void) {
    nsizes = 0;
    for (size_t s = 0; s <= 1024; s++) sizes[nsizes++] = s;
    for (size_t p = 2048; p <= ((size_t)8 << 20); p <<= 1) {
        size_t around[] = {p - 17, p - 16, p - 1, p, p + 1, p + 8, p + 16, p + p / 2};
        for (size_t i = 0; i < sizeof around / sizeof *around; i++) sizes[nsizes++] = around[i];
    }
}

static void check_is_gomalloc(void) {
    Dl_info info;
    void *m = (void *)malloc;
    if (!dladdr(m, &info) || !info.dli_fname || !strstr(info.dli_fname, "libGoMalloc")) {
        printf("FAIL malloc comes from %s, not libGoMalloc.so (is LD_PRELOAD set?)\n",
               info.dli_fname ? info.dli_fname : "?");
        exit(1);
    }
}

/* 16-byte alignment for every request >= 16 bytes, 8 below; writing the whole request is fine. */
static void check_alignment(void) {
    void **ps = calloc(nsizes, sizeof(void *));
    for (size_t i = 0; i < nsizes; i++) {
        size_t s = sizes[i];
        ps[i] = malloc(s);
        EXPECT(ps[i] != NULL, "malloc(%zu) = NULL", s);
        if (!ps[i]) continue;
        size_t want = s >= 16 ? 16 : 8;
        EXPECT(aligned(ps[i], want), "malloc(%zu) = %p, not %zu-aligned", s, ps[i], want);
        memset(ps[i], 0x5a, s);
    }
    for (size_t i = 0; i < nsizes; i++) free(ps[i]);
    free(ps);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* malloc(0): non-NULL, unique among live pointers, freeable. */
static void check_malloc0(void) {
    enum { N = 2000 };
    static void *ps[N];
    for (int i = 0; i < N; i++) {
        ps[i] = malloc(0);
        EXPECT(ps[i] != NULL, "malloc(0) = NULL (call %d)", i);
        EXPECT(aligned(ps[i], 8), "malloc(0) = %p, not 8-aligned", ps[i]);
    }
    void *sorted[N];
    memcpy(sorted, ps, sizeof sorted);
    qsort(sorted, N, sizeof(void *), cmp_ptr);
    for (int i = 1; i < N; i++) EXPECT(sorted[i] != sorted[i - 1], "malloc(0) returned %p twice", sorted[i]);
    for (int i = 0; i < N; i++) free(ps[i]);
}

static int all_zero(const unsigned char *p, size_t n, size_t *where) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w) break;
    }
    for (; i < n; i++)
        if (p[i]) { *where = i; return 0; }
    return 1;
}

/* calloc zeroes, including memory that was just dirtied and freed (small and large), and detects overflow. */
static void check_calloc(void) {
    size_t cs[] = {1, 8, 16, 24, 100, 1000, 4096, 8192, 32768, 32769, 100000, (size_t)1 << 20, (size_t)3 << 20,
                   (size_t)16 << 20};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
            /* Dirty some memory of this size and free it, so calloc is likely to get it back. */
            void *d[8];
            int nd = cs[i] > 100000 ? 2 : 8;
            for (int k = 0; k < nd; k++) { d[k] = malloc(cs[i]); if (d[k]) memset(d[k], 0xff, cs[i]); }
            for (int k = 0; k < nd; k++) free(d[k]);
            unsigned char *p = calloc(1, cs[i]);
            size_t qn = cs[i] / 8 + 1;
            unsigned char *q = calloc(qn, 8);
            size_t at = 0;
            EXPECT(p && all_zero(p, cs[i], &at), "calloc(1, %zu) = %p not zero at byte %zu", cs[i], (void *)p, at);
            EXPECT(q && all_zero(q, qn * 8, &at), "calloc(%zu, 8) = %p not zero at byte %zu", qn, (void *)q, at);
            if (p) memset(p, 0xee, cs[i]);
            if (q) memset(q, 0xdd, qn * 8);
            free(p);
            free(q);
        }
    }
    errno = 0;
    void *o = calloc(opaque(SIZE_MAX / 2), 4);
    EXPECT(o == NULL && errno == ENOMEM, "calloc(SIZE_MAX/2, 4) = %p errno %d", o, errno);
    errno = 0;
    o = calloc(opaque((size_t)1 << 33), (size_t)1 << 33);
    EXPECT(o == NULL && errno == ENOMEM, "calloc(2^33, 2^33) = %p errno %d", o, errno);
    errno = 0;
    o = calloc(opaque(SIZE_MAX), opaque(SIZE_MAX));
    EXPECT(o == NULL && errno == ENOMEM, "calloc(opaque(SIZE_MAX), opaque(SIZE_MAX)) = %p errno %d", o, errno);
    o = calloc(0, 0);
    EXPECT(o != NULL, "calloc(0, 0) = NULL");
    free(o);
}

/* Requests that cannot be satisfied: NULL with ENOMEM, and the heap still works afterwards. */
static void check_huge(void) {
    size_t huge[] = {SIZE_MAX / 2, SIZE_MAX, SIZE_MAX - 4095, SIZE_MAX - 100000, (size_t)1 << 63,
                     ((size_t)1 << 47) + 1};
    for (size_t i = 0; i < sizeof huge / sizeof *huge; i++) {
        errno = 0;
        void *p = malloc(opaque(huge[i]));
        EXPECT(p == NULL && errno == ENOMEM, "malloc(%zu) = %p errno %d", huge[i], p, errno);
        if (p) free(p);
        errno = 0;
        p = realloc(NULL, huge[i]);
        EXPECT(p == NULL && errno == ENOMEM, "realloc(NULL, %zu) = %p errno %d", huge[i], p, errno);
        void *out = (void *)0x1;
        int rc = posix_memalign(&out, 64, huge[i]);
        EXPECT(rc == ENOMEM && out == (void *)0x1, "posix_memalign(64, %zu) = %d, out %p", huge[i], rc, out);
        errno = 0;
        p = aligned_alloc(4096, huge[i]);
        EXPECT(p == NULL && errno == ENOMEM, "aligned_alloc(4096, %zu) = %p errno %d", huge[i], p, errno);
        errno = 0;
        p = valloc(huge[i]);
        EXPECT(p == NULL && errno == ENOMEM, "valloc(%zu) = %p errno %d", huge[i], p, errno);
        errno = 0;
        p = pvalloc(huge[i]);
        EXPECT(p == NULL && errno == ENOMEM, "pvalloc(%zu) = %p errno %d", huge[i], p, errno);
    }
    void *p = malloc(100);
    EXPECT(p != NULL, "malloc(100) after failures = NULL");
    free(p);
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}
static size_t first_mismatch(const unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7 + (i >> 8))) return i;
    return (size_t)-1;
}

/* realloc keeps the contents when growing and shrinking, across small and large sizes. */
static void check_realloc(void) {
    size_t steps[] = {1, 7, 16, 17, 100, 512, 4000, 8192, 30000, 32768, 40000, 200000, (size_t)1 << 20,
                      (size_t)5 << 20, (size_t)1 << 20, 40000, 32768, 1000, 100, 16, 3, 1};
    unsigned char *p = NULL;
    size_t have = 0;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        size_t n = steps[i];
        unsigned char *q = realloc(p, n);
        EXPECT(q != NULL, "realloc(%p, %zu) = NULL", (void *)p, n);
        if (!q) return;
        size_t keep = have < n ? have : n;
        size_t bad = first_mismatch(q, keep, 0x31);
        EXPECT(bad == (size_t)-1, "realloc %zu -> %zu lost contents at byte %zu", have, n, bad);
        EXPECT(aligned(q, n >= 16 ? 16 : 8), "realloc(.., %zu) = %p misaligned", n, (void *)q);
        fill(q, n, 0x31);
        p = q;
        have = n;
    }
    free(p);

    /* realloc(NULL, n) is malloc(n). */
    unsigned char *r = realloc(NULL, 64);
    EXPECT(r != NULL && aligned(r, 16), "realloc(NULL, 64) = %p", (void *)r);
    if (r) memset(r, 1, 64);
    /* realloc(p, 0) frees p; it returns NULL (glibc) or a unique pointer that may be freed. */
    void *z = realloc(r, 0);
    if (z) free(z);
    /* Growing an object while neighbours live around it must not touch the neighbours. */
    unsigned char *a = malloc(48), *b = malloc(48), *c = malloc(48);
    fill(a, 48, 1); fill(b, 48, 2); fill(c, 48, 3);
    b = realloc(b, 4000);
    EXPECT(b != NULL && first_mismatch(b, 48, 2) == (size_t)-1, "realloc(48 -> 4000) lost contents");
    EXPECT(first_mismatch(a, 48, 1) == (size_t)-1 && first_mismatch(c, 48, 3) == (size_t)-1,
           "realloc disturbed a neighbour");
    free(a); free(b); free(c);
    /* A failed realloc leaves the old block alone. */
    unsigned char *k = malloc(100);
    fill(k, 100, 9);
    errno = 0;
    void *f = realloc(k, opaque(SIZE_MAX / 2));
    EXPECT(f == NULL && errno == ENOMEM, "realloc(p, SIZE_MAX/2) = %p errno %d", f, errno);
    EXPECT(first_mismatch(k, 100, 9) == (size_t)-1, "failed realloc changed the old block");
    free(k);
}

/* reallocarray: n * size overflow is NULL + ENOMEM and leaves the block alone; otherwise it is realloc. */
static void check_reallocarray(void) {
    unsigned char *p = reallocarray(NULL, 10, 10);
    EXPECT(p != NULL, "reallocarray(NULL, 10, 10) = NULL");
    if (!p) return;
    fill(p, 100, 4);
    errno = 0;
    void *q = reallocarray(p, opaque(SIZE_MAX / 2), 3);
    EXPECT(q == NULL && errno == ENOMEM, "reallocarray(p, SIZE_MAX/2, 3) = %p errno %d", q, errno);
    errno = 0;
    q = reallocarray(p, opaque((size_t)1 << 32), (size_t)1 << 32);
    EXPECT(q == NULL && errno == ENOMEM, "reallocarray(p, 2^32, 2^32) = %p errno %d", q, errno);
    EXPECT(first_mismatch(p, 100, 4) == (size_t)-1, "failed reallocarray changed the block");
    unsigned char *r = reallocarray(p, 1000, 8);
    EXPECT(r != NULL && first_mismatch(r, 100, 4) == (size_t)-1, "reallocarray(p, 1000, 8) lost contents");
    free(r);
}

/* posix_memalign: every power-of-two multiple of sizeof(void *) from 8 to 64 MiB; EINVAL otherwise. */
static void check_posix_memalign(void) {
    for (size_t a = sizeof(void *); a <= ((size_t)64 << 20); a <<= 1) {
        size_t ss[] = {0, 1, 3, 8, 15, 16, 24, a / 2 + 1, a - 8, a, a + 1, 3 * a / 2, 40000};
        void *keep[sizeof ss / sizeof *ss];
        for (size_t i = 0; i < sizeof ss / sizeof *ss; i++) {
            void *p = (void *)0x1;
            int rc = posix_memalign(&p, a, ss[i]);
            EXPECT(rc == 0 && p != NULL && p != (void *)0x1, "posix_memalign(%zu, %zu) = %d", a, ss[i], rc);
            keep[i] = rc == 0 ? p : NULL;
            if (rc) continue;
            EXPECT(aligned(p, a), "posix_memalign(%zu, %zu) = %p misaligned", a, ss[i], p);
            EXPECT(malloc_usable_size(p) >= ss[i], "usable size %zu < %zu (align %zu)", malloc_usable_size(p),
                   ss[i], a);
            if (ss[i]) { ((char *)p)[0] = 1; ((char *)p)[ss[i] - 1] = 2; }
        }
        for (size_t i = 0; i < sizeof ss / sizeof *ss; i++) free(keep[i]);
    }
    size_t bad[] = {0, 1, 2, 3, 4, 12, 24, 48, 100, 4097, ((size_t)1 << 20) + 8};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *p = (void *)0x1;
        int rc = posix_memalign(&p, bad[i], 64);
        EXPECT(rc == EINVAL, "posix_memalign(%zu, 64) = %d, want EINVAL", bad[i], rc);
        EXPECT(p == (void *)0x1, "posix_memalign(%zu, 64) wrote %p on failure", bad[i], p);
    }
}

/* Alignments beyond the heap's 64 MiB arenas: honoured (glibc maps them) or refused with ENOMEM, never a pointer
   with less alignment than asked for. */
static void check_huge_alignment(void) {
    for (int sh = 27; sh <= 62; sh++) {
        size_t a = (size_t)1 << sh;
        void *out = (void *)0x1;
        int rc = posix_memalign(&out, a, 16);
        EXPECT(rc == ENOMEM || rc == 0, "posix_memalign(2^%d, 16) = %d", sh, rc);
        if (rc == ENOMEM) EXPECT(out == (void *)0x1, "posix_memalign(2^%d, 16) failed but wrote %p", sh, out);
        if (rc == 0) {
            EXPECT(aligned(out, a), "posix_memalign(2^%d, 16) = %p, not 2^%d-aligned", sh, out, sh);
            free(out);
        }
        errno = 0;
        void *q = aligned_alloc(a, a);
        EXPECT(q == NULL ? errno == ENOMEM : aligned(q, a), "aligned_alloc(2^%d, 2^%d) = %p errno %d", sh, sh, q,
               errno);
        free(q);
    }
    /* memalign up to and past 2^63, powers of two or not (a size_t alignment above PTRDIFF_MAX was once taken as
       negative and replaced by 16): an aligned pointer or NULL with an errno, as glibc (EINVAL above 2^63,
       ENOMEM for what it cannot map). */
    size_t odd[] = {(size_t)1 << 40, ((size_t)1 << 40) + 1, (size_t)1 << 41, ((size_t)1 << 62) + 1, (size_t)1 << 63,
                    ((size_t)1 << 63) + 1, SIZE_MAX - 4095, SIZE_MAX};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        size_t want = 1;  /* the power of two memalign rounds up to; none above 2^63 */
        while (want < odd[i] && want != (size_t)1 << 63) want <<= 1;
        errno = 0;
        void *q = memalign(odd[i], 100);
        EXPECT(q == NULL ? (errno == ENOMEM || errno == EINVAL) : want >= odd[i] && aligned(q, want),
               "memalign(%zu, 100) = %p errno %d", odd[i], q, errno);
        free(q);
    }
    void *out = (void *)0x1;
    int rc = posix_memalign(&out, (size_t)1 << 63, 16);
    EXPECT(rc == ENOMEM && out == (void *)0x1, "posix_memalign(2^63, 16) = %d, out %p", rc, out);
    errno = 0;
    void *q = aligned_alloc((size_t)1 << 63, 16);
    EXPECT(q == NULL && errno == ENOMEM, "aligned_alloc(2^63, 16) = %p errno %d", q, errno);
}

/* aligned_alloc: any power of two; memalign: non-powers of two round up to the next power of two. */
static void check_aligned_alloc_memalign(void) {
    for (size_t a = 1; a <= ((size_t)64 << 20); a <<= 1) {
        size_t n = a < 64 ? 64 : a;
        void *p = aligned_alloc(a, n);
        EXPECT(p != NULL && aligned(p, a), "aligned_alloc(%zu, %zu) = %p", a, n, p);
        void *q = memalign(a, 100);
        EXPECT(q != NULL && aligned(q, a), "memalign(%zu, 100) = %p", a, q);
        if (p) memset(p, 3, n);
        if (q) memset(q, 4, 100);
        free(p);
        free(q);
    }
    /* The requested alignment holds for small sizes too (no tiny 8-byte slots when 16 or more is asked for). */
    for (size_t a = 8; a <= 256; a <<= 1) {
        for (size_t n = 0; n <= 64; n++) {
            void *p = aligned_alloc(a, n);
            EXPECT(p != NULL && aligned(p, a), "aligned_alloc(%zu, %zu) = %p", a, n, p);
            void *q = memalign(a, n);
            EXPECT(q != NULL && aligned(q, a), "memalign(%zu, %zu) = %p", a, n, q);
            free(p);
            free(q);
        }
    }
    struct { size_t ask, want; } round[] = {{24, 32}, {48, 64}, {100, 128}, {3000, 4096}, {5000, 8192},
                                           {40000, 65536}, {(1 << 20) + 1, 2 << 20}};
    for (size_t i = 0; i < sizeof round / sizeof *round; i++) {
        void *ps[4];
        for (int k = 0; k < 4; k++) {
            ps[k] = memalign(round[i].ask, 10);
            EXPECT(ps[k] != NULL && aligned(ps[k], round[i].want), "memalign(%zu, 10) = %p, want %zu-aligned",
                   round[i].ask, ps[k], round[i].want);
        }
        for (int k = 0; k < 4; k++) free(ps[k]);
    }
}

/* valloc and pvalloc: 4096-byte (page) alignment; pvalloc rounds the size up to whole pages. */
static void check_valloc(void) {
    size_t vs[] = {0, 1, 100, 4095, 4096, 4097, 10000, 70000, (size_t)1 << 20};
    void *keep[2 * sizeof vs / sizeof *vs];
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
        void *p = valloc(vs[i]);
        EXPECT(p != NULL && aligned(p, 4096), "valloc(%zu) = %p", vs[i], p);
        void *q = pvalloc(vs[i]);
        EXPECT(q != NULL && aligned(q, 4096), "pvalloc(%zu) = %p", vs[i], q);
        size_t pages = (vs[i] + 4095) & ~(size_t)4095;  /* glibc: pvalloc(0) is a 0-byte request */
        if (q) {
            EXPECT(malloc_usable_size(q) >= pages, "pvalloc(%zu): usable %zu < %zu", vs[i], malloc_usable_size(q),
                   pages);
            memset(q, 6, pages);
        }
        if (p) memset(p, 5, vs[i]);
        keep[2 * i] = p;
        keep[2 * i + 1] = q;
    }
    for (size_t i = 0; i < 2 * sizeof vs / sizeof *vs; i++) free(keep[i]);
}

/* malloc_usable_size >= the request, and the whole usable size may be written without harm (checked at both
   ends of each block, where an overlap with a neighbour would show). */
static void fill_ends(unsigned char *p, size_t n, unsigned seed) {
    if (n <= 8192) { fill(p, n, seed); return; }
    fill(p, 4096, seed);
    fill(p + n - 4096, 4096, seed + 1);
}
static size_t ends_mismatch(const unsigned char *p, size_t n, unsigned seed) {
    if (n <= 8192) return first_mismatch(p, n, seed);
    size_t a = first_mismatch(p, 4096, seed);
    if (a != (size_t)-1) return a;
    size_t b = first_mismatch(p + n - 4096, 4096, seed + 1);
    return b == (size_t)-1 ? b : n - 4096 + b;
}
static void check_usable_size(void) {
    EXPECT(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu", malloc_usable_size(NULL));
    enum { K = 3 };
    for (size_t i = 0; i < nsizes; i++) {
        unsigned char *ps[K];
        size_t us[K];
        for (int k = 0; k < K; k++) {
            ps[k] = malloc(sizes[i]);
            us[k] = malloc_usable_size(ps[k]);
            EXPECT(us[k] >= sizes[i], "malloc_usable_size(malloc(%zu)) = %zu", sizes[i], us[k]);
            fill_ends(ps[k], us[k], (unsigned)k);
        }
        for (int k = 0; k < K; k++) {
            size_t bad = ends_mismatch(ps[k], us[k], (unsigned)k);
            EXPECT(bad == (size_t)-1, "size %zu: block %d changed at %zu (writing usable bytes overlapped?)",
                   sizes[i], k, bad);
            free(ps[k]);
        }
    }
}

/* free(NULL) does nothing, many times, also before and after other calls. */
static void check_free_null(void) {
    for (int i = 0; i < 1000; i++) free(NULL);
    void *p = malloc(10);
    free(NULL);
    free(p);
    void *r = realloc(NULL, 0);
    free(r);
    free(NULL);
}

/* A thread whose first calls are frees (NULL, then blocks another thread allocated), then mallocs: its TLS slot
   starts as the empty cache, so these go through the slow paths until it has a cache of its own. */
static void *first_call_free_thread(void *arg) {
    char **ps = arg;
    free(NULL);
    for (int i = 0; i < 1000; i++) {
        EXPECT(ps[i][0] == (char)i, "block %d intact", i);
        free(ps[i]);
    }
    for (int i = 0; i < 1000; i++) {
        ps[i] = malloc(16 + (size_t)(i % 300));
        EXPECT(ps[i] != NULL, "malloc %d", i);
        if (ps[i]) ps[i][0] = (char)i;
    }
    return NULL;
}
static void *free_null_only_thread(void *arg) {
    (void)arg;
    free(NULL);
    return NULL;
}
static void check_first_call_free(void) {
    static char *ps[1000];
    for (int i = 0; i < 1000; i++) {
        ps[i] = malloc(16 + (size_t)(i % 300));
        ps[i][0] = (char)i;
    }
    pthread_t t;
    EXPECT(pthread_create(&t, NULL, first_call_free_thread, ps) == 0, "pthread_create");
    pthread_join(t, NULL);
    EXPECT(pthread_create(&t, NULL, free_null_only_thread, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    for (int i = 0; i < 1000; i++) {
        EXPECT(ps[i] && ps[i][0] == (char)i, "block %d from the exited thread intact", i);
        free(ps[i]);
    }
}

/* Many threads that each allocate a few blocks: resident memory grows by about their data and stacks, not by a
   span of every size class per thread (before young threads shared a cache, 300 such threads took 33 MB more;
   glibc's arenas take about 7). Half of each thread's blocks are freed by the thread, half by the main thread.
   The threads start together, so their first mallocs contend for a lock: a successful malloc leaves errno alone. */
enum { MT_THREADS = 300, MT_BLOCKS = 24 };
static pthread_barrier_t mt_barrier;
static char *mt_blocks[MT_THREADS][MT_BLOCKS];
static size_t mt_size(int t, int i) { return ((size_t)16 << (i % 8)) + (size_t)((t + i) % 7) * 8; }
static void *mt_thread(void *arg) {
    int t = (int)(uintptr_t)arg;
    for (int i = 0; i < MT_BLOCKS; i++) {
        size_t n = mt_size(t, i);
        errno = 0;
        mt_blocks[t][i] = malloc(n);
        EXPECT(mt_blocks[t][i] && errno == 0, "thread %d block %d: %p, errno %d", t, i, (void *)mt_blocks[t][i], errno);
        if (mt_blocks[t][i]) memset(mt_blocks[t][i], (t * 31 + i) & 0xff, n);
    }
    pthread_barrier_wait(&mt_barrier);  /* the main thread measures here */
    pthread_barrier_wait(&mt_barrier);
    for (int i = 0; i < MT_BLOCKS; i += 2) {
        EXPECT(mt_blocks[t][i] && mt_blocks[t][i][mt_size(t, i) - 1] == (char)((t * 31 + i) & 0xff), "thread %d block %d", t, i);
        free(mt_blocks[t][i]);
        mt_blocks[t][i] = NULL;
    }
    return NULL;
}
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
    if (f) fclose(f);
    return kib;
}
static void check_many_threads(void) {
    pthread_t th[MT_THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    pthread_barrier_init(&mt_barrier, NULL, MT_THREADS + 1);
    long before = rss_kib();
    int made = 0;
    for (; made < MT_THREADS; made++)
        if (pthread_create(&th[made], &attr, mt_thread, (void *)(uintptr_t)made)) break;
    EXPECT(made == MT_THREADS, "created %d of %d threads", made, MT_THREADS);
    if (made < MT_THREADS) exit(1);  /* the barrier would wait forever */
    pthread_barrier_wait(&mt_barrier);
    long grown = rss_kib() - before;
    EXPECT(grown < MT_THREADS * 48, "%d threads with %d blocks each grew RSS by %ld KiB", MT_THREADS, MT_BLOCKS, grown);
    pthread_barrier_wait(&mt_barrier);
    for (int t = 0; t < MT_THREADS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < MT_THREADS; t++)
        for (int i = 1; i < MT_BLOCKS; i += 2) {
            EXPECT(mt_blocks[t][i] && mt_blocks[t][i][0] == (char)((t * 31 + i) & 0xff), "thread %d block %d", t, i);
            free(mt_blocks[t][i]);
        }
    pthread_barrier_destroy(&mt_barrier);
    pthread_attr_destroy(&attr);
}

/* fork() while other threads allocate: the child allocates, frees and makes threads, and exits 0. */
static volatile int stop_workers;
static void *fork_worker(void *arg) {
    unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
    void *slots[64] = {0};
    for (unsigned long n = 0; !stop_workers; n++) {
        if (n % 64 == 0) usleep(50);  /* busy, but leaves the forking thread some CPU on small machines */
        x = x * 1103515245u + 12345u;
        unsigned i = (x >> 8) & 63;
        free(slots[i]);
        size_t n = (x >> 16) % 5 == 0 ? 40000 + (x >> 20) % 100000 : (x >> 16) % 2000;
        slots[i] = malloc(n);
        if (slots[i]) memset(slots[i], (int)i, n);
    }
    for (int i = 0; i < 64; i++) free(slots[i]);
    return NULL;
}
static void *child_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) free(malloc((size_t)i * 13));
    return malloc(100);
}
static int child_work(void) {
    alarm(20);  /* a deadlocked heap in the child turns into SIGALRM, not a hang */
    void *ps[500];
    for (int i = 0; i < 500; i++) {
        size_t n = i % 50 == 0 ? 300000 : (size_t)i * 7;
        ps[i] = malloc(n);
        if (!ps[i]) return 2;
        memset(ps[i], 0x77, n);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread, NULL)) return 3;
    void *fromThread;
    pthread_join(t, &fromThread);
    free(fromThread);  /* cross-thread free in the child */
    for (int i = 0; i < 500; i++) free(ps[i]);
    char *s = NULL;
    if (asprintf(&s, "child %d", (int)getpid()) < 0) return 4;
    free(s);
    return 0;
}
static void check_fork(void) {
    enum { T = 4, FORKS = 20 };
    pthread_t th[T];
    stop_workers = 0;
    for (int i = 0; i < T; i++) pthread_create(&th[i], NULL, fork_worker, (void *)(uintptr_t)(i + 1));
    for (int f = 0; f < FORKS; f++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) _exit(child_work());
        EXPECT(pid > 0, "fork failed");
        if (pid < 0) break;
        int st = 0;
        waitpid(pid, &st, 0);
        EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork %d: child status 0x%x (signal %d)", f, st,
               WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        free(malloc(1000)); /* the parent still allocates */
    }
    stop_workers = 1;
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
}

/* Under an address-space limit (RLIMIT_AS, `ulimit -v`; the test sets 400 MB before exec, as a sandbox would), a
 * program starts, allocates until malloc fails with ENOMEM, and goes on. The heap once reserved 1 GiB for its span
 * list at start-up, and every program failed its first malloc under any limit below about 1.1 GB. Run last: with no
 * limit set (glibc, "all"), it sets one 512 MiB above what the process uses (the blocks are never touched) and
 * lifts it after. */
static void check_address_limit(void) {
    struct rlimit old, rl;
    getrlimit(RLIMIT_AS, &old);
    rl = old;
    if (rl.rlim_cur == RLIM_INFINITY) {
        unsigned long pages = 0; /* address space in use now (earlier checks' threads and arenas), plus 512 MiB */
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) { if (fscanf(f, "%lu", &pages) != 1) pages = 0; fclose(f); }
        rl.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)512 << 20);
        setrlimit(RLIMIT_AS, &rl);
    }
    enum { MAX = 8192 };
    static void *blocks[MAX];
    int n = 0;
    errno = 0;
    while (n < MAX) {
        void *p = malloc(opaque(1 << 20));
        if (!p) break;
        blocks[n++] = p;
    }
    EXPECT(n < MAX && errno == ENOMEM, "no ENOMEM under RLIMIT_AS %llu: %d MiB, errno %d",
           (unsigned long long)rl.rlim_cur, n, errno);
    EXPECT(n >= 100, "only %d MiB allocated under RLIMIT_AS %llu", n, (unsigned long long)rl.rlim_cur);
    void *q = malloc(opaque(100));
    EXPECT(q != NULL, "malloc(100) after ENOMEM = NULL");
    free(q);
    for (int i = 0; i < n; i++) free(blocks[i]);
    q = malloc(opaque(1 << 20));
    EXPECT(q != NULL, "malloc(1 MiB) after freeing = NULL");
    free(q);
    setrlimit(RLIMIT_AS, &old);
}

static const struct { const char *name; void (*fn)(void); } checks[] = {
    {"alignment", check_alignment},
    {"malloc0", check_malloc0},
    {"calloc", check_calloc},
    {"huge", check_huge},
    {"realloc", check_realloc},
    {"reallocarray", check_reallocarray},
    {"posix_memalign", check_posix_memalign},
    {"huge_alignment", check_huge_alignment},
    {"aligned_alloc", check_aligned_alloc_memalign},
    {"valloc", check_valloc},
    {"usable_size", check_usable_size},
    {"free_null", check_free_null},
    {"first_call_free", check_first_call_free},
    {"fork", check_fork},
    {"many_threads", check_many_threads},
    {"address_limit", check_address_limit},
};

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: abi CHECK|all\n"); return 2; }
    const char *expect = getenv("GOMALLOC_EXPECT");
    if (expect && strcmp(expect, "1") == 0) check_is_gomalloc();
    init_sizes();
    int ran = 0;
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
        if (strcmp(argv[1], "all") && strcmp(argv[1], checks[i].name)) continue;
        check_failures = 0;
        checks[i].fn();
        ran++;
        if (check_failures == 0) printf("ok %s\n", checks[i].name);
        else if (check_failures > 10) printf("FAIL %s: %d more failures not shown\n", checks[i].name, check_failures - 10);
    }
    if (!ran) { fprintf(stderr, "abi: no check named %s\n", argv[1]); return 2; }
    return failures ? 1 : 0;
}
