// One-line shims declared in CGoRuntime.h. No logic here.
#define _GNU_SOURCE
#include "CGoRuntime.h"
#include <dlfcn.h>
#include <linux/futex.h>
#include <sys/sysinfo.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Alignas(4096) unsigned char gort_sentinel_region[GORT_SENTINEL_BYTES];
_Alignas(64) void *gort_empty_mcache[GORT_EMPTY_MCACHE_WORDS] = {
    [GORT_MCACHE_HEAP] = gort_sentinel_region,
    [GORT_MCACHE_ARENA_FLAT] = gort_sentinel_region,
    [GORT_MCACHE_SENTINEL] = gort_sentinel_region,
    [GORT_MCACHE_ALLOC ... GORT_MCACHE_ALLOC + GORT_NUM_SPAN_CLASSES - 1] = gort_sentinel_region,
};
__thread void *gort_tls_mcache __attribute__((tls_model("initial-exec"))) = gort_empty_mcache;
__thread void *gort_tls_m __attribute__((tls_model("initial-exec"))) = 0;
__thread void *gort_tls_gc_scope __attribute__((tls_model("initial-exec"))) = 0;
__thread int gort_tls_cache_released __attribute__((tls_model("initial-exec"))) = 0;
__thread unsigned gort_tls_young_ops __attribute__((tls_model("initial-exec"))) = 0;

int gort_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns) {
    struct timespec ts, *tsp = 0;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    return (int)syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, 0, 0);
}

int gort_futex_wake(uint32_t *addr, int n) {
    return (int)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, 0, 0, 0);
}

int gort_gettid(void) { return (int)syscall(SYS_gettid); }

int gort_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
    return pthread_atfork(prepare, parent, child);
}

unsigned long gort_sys_memory(void) {
    struct sysinfo i;
    if (sysinfo(&i) != 0) return 0;
    return (i.totalram + i.totalswap) * (unsigned long)(i.mem_unit ? i.mem_unit : 1);
}

const char *gort_object_path(const void *addr) {
    Dl_info info;
    return dladdr(addr, &info) != 0 ? info.dli_fname : 0;
}

// With target("cx16") this compiles to one `lock cmpxchg16b` (checked with objdump); clang's -Watomic-alignment
// warning about a libatomic call is issued before the attribute is taken into account, so it is silenced here.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Watomic-alignment"
#if defined(__x86_64__)
__attribute__((target("cx16")))
#endif
bool gort_cas128_acqrel(uint64_t *p, uint64_t *lo, uint64_t *hi, uint64_t new_lo, uint64_t new_hi) {
    unsigned __int128 e = ((unsigned __int128)*hi << 64) | *lo;
    unsigned __int128 d = ((unsigned __int128)new_hi << 64) | new_lo;
    bool ok = __atomic_compare_exchange_n((unsigned __int128 *)p, &e, d, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    *lo = (uint64_t)e;
    *hi = (uint64_t)(e >> 64);
    return ok;
}
#pragma clang diagnostic pop

int gort_set_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }
