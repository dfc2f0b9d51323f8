// CGoRuntime: the few things Swift cannot spell. No logic lives here, only one-line shims:
//   - an initial-exec thread-local slot (the cheapest TLS: one %fs-relative load),
//   - C11 atomics on raw words in mmap'd memory, with the memory ordering in the name,
//   - futex wait/wake (a variadic syscall Swift cannot call),
//   - a CPU pause hint for spin loops.
#ifndef CGORUNTIME_H
#define CGORUNTIME_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

// ---- libc, for code that cannot import the Glibc overlay -----------------------------------------------
// libGoMalloc.so is compiled as Embedded Swift (no Swift runtime in the process), where `import Glibc` is not
// available; GoAlloc gets its libc declarations from here in both builds. errno is a macro and open() is
// variadic, so neither is callable from Swift directly.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
static inline __attribute__((always_inline)) int gort_errno(void) { return errno; }
static inline __attribute__((always_inline)) void gort_set_errno(int e) { errno = e; }
static inline int gort_open(const char *path, int flags, int mode) { return open(path, flags, mode); }

// ---- thread-local slots -------------------------------------------------------------------------------
// Slot 0: the current thread's MCache of the process-default heap (GoAlloc), or the empty MCache (below) on a
// thread that has none: never NULL. Slot 1: the current M (GoSched).
// initial-exec: valid for the executable and for libraries loaded at start-up (LD_PRELOAD, DT_NEEDED).
extern __thread void *gort_tls_mcache __attribute__((tls_model("initial-exec")));
extern __thread void *gort_tls_m __attribute__((tls_model("initial-exec")));
/// Set once this thread's MCache went back to the heap at thread exit (libGoMalloc.so), so late frees do not make a new one.
extern __thread int gort_tls_cache_released __attribute__((tls_model("initial-exec")));

// ---- sentinels (GoAlloc/Sentinels.swift) -----------------------------------------------------------------
// Static data only. The sentinel region is all zero bytes, never written: read as a HeapArena its spans are all
// "none", read as an MSpan it is owned by nobody, has no free slot and no limit. The empty MCache is the TLS
// slot's value on a thread without a cache (mimalloc's _mi_heap_empty): its words at the GORT_MCACHE_* indexes
// point into the sentinel region (arena mask 0): every alloc slot is an empty span and every address is in no
// arena, so malloc's and free's fast paths read it like any cache, find nothing, and take their slow paths,
// with no nil test of their own. The indexes and sizes must match MCache's layout (GoAlloc's SentinelTests).
#define GORT_SENTINEL_BYTES 73728           // >= HeapArena.spansOffset + 8192 * 8, and >= one MSpan
#define GORT_EMPTY_MCACHE_WORDS 768          // >= MCache.totalBytes / 8
#define GORT_MCACHE_HEAP 0                   // MCache.heap (never dereferenced for the empty cache)
#define GORT_MCACHE_ARENA_FLAT 7             // MCache.arenaFlat
#define GORT_MCACHE_ARENA_MASK 9             // MCache.arenaMask (0: every address reads slot 0)
#define GORT_MCACHE_SENTINEL 10              // MCache.sentinel (the bias of arena and span entries)
#define GORT_MCACHE_ALLOC 16                 // MCache.alloc[0] (headerBytes / 8)
#define GORT_NUM_SPAN_CLASSES 136
extern unsigned char gort_sentinel_region[] __attribute__((visibility("hidden")));
extern void *gort_empty_mcache[] __attribute__((visibility("hidden")));
// size -> noscan span class for C's malloc, one byte per byte of size, 0...32768 (GoAlloc's mallocClassTable
// fills it once, before the first heap exists). Indexed by the size itself: no rounding on malloc's fast path.
#define GORT_MALLOC_CLASS_BYTES 32769
extern unsigned char gort_malloc_class[] __attribute__((visibility("hidden")));
static inline __attribute__((always_inline)) void *gort_sentinel_address(void) { return gort_sentinel_region; }
static inline __attribute__((always_inline)) void *gort_empty_mcache_address(void) { return gort_empty_mcache; }
static inline __attribute__((always_inline)) unsigned char *gort_malloc_class_table(void) { return gort_malloc_class; }

static inline __attribute__((always_inline)) void *gort_tls_get_mcache(void) { return gort_tls_mcache; }
static inline __attribute__((always_inline)) void gort_tls_set_mcache(void *c) { gort_tls_mcache = c; }
static inline __attribute__((always_inline)) void *gort_tls_get_m(void) { return gort_tls_m; }
static inline __attribute__((always_inline)) void gort_tls_set_m(void *m) { gort_tls_m = m; }
static inline __attribute__((always_inline)) int gort_tls_get_cache_released(void) { return gort_tls_cache_released; }
static inline __attribute__((always_inline)) void gort_tls_set_cache_released(int v) { gort_tls_cache_released = v; }

// ---- atomics on 64-bit words --------------------------------------------------------------------------
#define GORT_A static inline __attribute__((always_inline))
// Prefetch for reading (GoGC marking: objects about to be scanned).
GORT_A void gort_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
// Prefetch for writing (C's malloc: the next object of a span being filled, MCache.prefetchStride). On x86-64, prefetchw asks for the
// line in exclusive state (the baseline target would emit a read prefetch, and the first store would then need
// the line once more); CPUs without it execute it as a no-op.
GORT_A void gort_prefetchw(const void *p) {
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}
GORT_A uint64_t gort_load_relaxed(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
GORT_A uint64_t gort_load_acquire(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
GORT_A void gort_store_relaxed(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
GORT_A void gort_store_release(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
GORT_A uint64_t gort_fetch_add_relaxed(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
GORT_A uint64_t gort_fetch_add_acqrel(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
GORT_A uint64_t gort_fetch_sub_acqrel(uint64_t *p, uint64_t v) { return __atomic_fetch_sub(p, v, __ATOMIC_ACQ_REL); }
GORT_A uint64_t gort_fetch_or_acqrel(uint64_t *p, uint64_t v) { return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL); }
GORT_A uint64_t gort_fetch_and_acqrel(uint64_t *p, uint64_t v) { return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL); }
GORT_A uint64_t gort_exchange_acqrel(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
GORT_A uint64_t gort_exchange_acquire(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQUIRE); }
GORT_A uint64_t gort_exchange_release(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_RELEASE); }
// Strong CAS; returns true on success. On failure *expected holds the current value.
GORT_A bool gort_cas_acqrel(uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
GORT_A bool gort_cas_acquire(uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
GORT_A bool gort_cas_release(uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}
// Compare-and-swap of a 16-byte-aligned pair of words (lo at p[0], hi at p[1]) as one (x86-64 cmpxchg16b,
// arm64 casp or ldaxp/stlxp). acq_rel on success, acquire on failure; on failure *lo and *hi get the current
// value. In shim.c (compiled for cmpxchg16b); GoSched's run queue uses it.
bool gort_cas128_acqrel(uint64_t *p, uint64_t *lo, uint64_t *hi, uint64_t new_lo, uint64_t new_hi);
// 32-bit words (futex words must be 32-bit).
GORT_A uint32_t gort_load32_relaxed(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
GORT_A uint32_t gort_load32_acquire(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
GORT_A void gort_store32_release(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
GORT_A uint32_t gort_exchange32_acquire(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQUIRE); }
GORT_A uint32_t gort_exchange32_release(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_RELEASE); }
GORT_A uint32_t gort_exchange32_acqrel(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
GORT_A bool gort_cas32_acquire(uint32_t *p, uint32_t *expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
GORT_A bool gort_cas32_acqrel(uint32_t *p, uint32_t *expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
GORT_A uint32_t gort_fetch_add32_acqrel(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
GORT_A void gort_store32_relaxed(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
GORT_A uint32_t gort_exchange32_relaxed(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
GORT_A void gort_fence_seqcst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
GORT_A void gort_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
GORT_A void gort_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

// ---- futex --------------------------------------------------------------------------------------------
// Sleep while *addr == val (or until woken / timeout). timeout_ns < 0: no timeout. Returns the raw result.
int gort_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns);
// Wake up to n waiters on addr.
int gort_futex_wake(uint32_t *addr, int n);

// ---- CPU ----------------------------------------------------------------------------------------------
// Bit b (0...63) of x set or flipped: one bts / btc on x86-64 (LLVM builds `x | 1 << b` from a mov, a shl and an
// or). free's fast path uses them.
GORT_A uint64_t gort_bit_set(uint64_t x, uint64_t b) {
#if defined(__x86_64__)
    __asm__("btsq %1, %0" : "+r"(x) : "r"(b) : "cc");
    return x;
#else
    return x | (1ull << (b & 63));
#endif
}
GORT_A uint64_t gort_bit_flip(uint64_t x, uint64_t b) {
#if defined(__x86_64__)
    __asm__("btcq %1, %0" : "+r"(x) : "r"(b) : "cc");
    return x;
#else
    return x ^ (1ull << (b & 63));
#endif
}

GORT_A void gort_cpu_relax(void) {
#if defined(__x86_64__)
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

// ---- process ------------------------------------------------------------------------------------------
// Thread id (gettid); used in messages and as a lock owner tag.
int gort_gettid(void);

// RAM + swap in bytes (sysinfo), 0 if unknown. Glibc's Swift module does not export sysinfo.
unsigned long gort_sys_memory(void);
// pthread_atfork with plain function pointers (Swift closures would need the Swift runtime).
int gort_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
// The path of the loaded object (executable or shared library) containing addr, or NULL (dladdr's dli_fname,
// which Swift cannot reach: glibc declares dladdr only under _GNU_SOURCE).
const char *gort_object_path(const void *addr);

#endif
