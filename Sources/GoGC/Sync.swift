// Low-level helpers for the collector: a futex lock, raw memory, threads, clocks. Nothing here allocates
// through ARC except `startThread` (slow path, once per collector thread).
#if canImport(Glibc)
import Glibc
#endif
import CGoRuntime
@_spi(GoGC) import GoAlloc
import GoSched

/// A futex lock in raw memory (like GoAlloc's RuntimeLock). `key`: 0 unlocked, 1 locked, 2 locked with
/// possible sleepers; acquire on lock, release on unlock, so a critical section sees the previous holder's writes.
struct GCLock {
    var key: UInt32 = 0
}

extension UnsafeMutablePointer where Pointee == GCLock {
    @inline(__always) func lock() {
        var e: UInt32 = 0
        if gort_cas32_acquire(pointer(to: \.key)!, &e, 1) { return }
        lockSlow()
    }
    @inline(never) func lockSlow() {
        for _ in 0..<64 {
            var e: UInt32 = 0
            if gort_load32_relaxed(pointer(to: \.key)!) == 0 && gort_cas32_acquire(pointer(to: \.key)!, &e, 1) { return }
            gort_cpu_relax()
        }
        while gort_exchange32_acquire(pointer(to: \.key)!, 2) != 0 { _ = gort_futex_wait(pointer(to: \.key)!, 2, -1) }
    }
    @inline(__always) func unlock() {
        if gort_exchange32_release(pointer(to: \.key)!, 0) == 2 { _ = gort_futex_wake(pointer(to: \.key)!, 1) }
    }
}

/// Maps `n` bytes of zeroed memory (MAP_NORESERVE: untouched pages cost nothing). Fatal when the OS refuses.
func gcMap(_ n: Int) -> UnsafeMutableRawPointer {
    let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if p == MAP_FAILED || p == nil { gcFatal("GoGC: out of memory mapping metadata") }
    return p!
}

/// Zeroes `n` bytes at `p` by giving the pages back (they read as zero afterwards). `p`, `n` page-aligned.
func gcZeroPages(_ p: UnsafeMutableRawPointer, _ n: Int) { _ = madvise(p, n, MADV_DONTNEED) }

/// Prints a constant message and aborts. Never allocates.
func gcFatal(_ msg: StaticString) -> Never {
    msg.withUTF8Buffer { b in _ = write(2, b.baseAddress, b.count) }
    _ = write(2, "\n", 1)
    abort()
}

/// gcFatal naming an address: "<msg> (0x...)". Formats on the stack; never allocates.
func gcFatal(_ msg: StaticString, pointer p: UInt) -> Never {
    msg.withUTF8Buffer { b in _ = write(2, b.baseAddress, b.count) }
    writeAddressLineEnd(2, p)
    abort()
}

@inline(__always) func monoNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Wall-clock time, nanoseconds since the Unix epoch (Go's LastGC and PauseEnd).
func wallNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread, nanoseconds.
@inline(__always) func threadCPUNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// CPU time of the process, nanoseconds.
func processCPUNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

private final class ThreadBody {
    let run: () -> Void
    let name: UnsafePointer<CChar>
    init(_ r: @escaping () -> Void, name: StaticString) {
        run = r
        self.name = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Starts a detached thread running `body` (collector threads: coordinator, mark workers, finalizers), named
/// `name` (at most 15 characters: `top -H`, gdb, and the tests that count collector threads).
func startThread(name: StaticString, _ body: @escaping () -> Void) {
    var tid = pthread_t()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    let box = Unmanaged.passRetained(ThreadBody(body, name: name)).toOpaque()
    let rc = pthread_create(&tid, &attr, { arg in
        let b = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        _ = gort_set_thread_name(b.name)
        b.run()
        return nil
    }, box)
    pthread_attr_destroy(&attr)
    if rc != 0 { gcFatal("GoGC: cannot start a collector thread") }
}

/// Sleeps on a futex word until it differs from `value` or `ns` pass (-1: forever).
@inline(__always) func futexWait(_ p: UnsafeMutablePointer<UInt32>, _ value: UInt32, _ ns: Int64) {
    _ = gort_futex_wait(p, value, ns)
}
@inline(__always) func futexWakeAll(_ p: UnsafeMutablePointer<UInt32>) { _ = gort_futex_wake(p, Int32.max) }

/// GOMAXPROCS as Go picks it (environment, affinity mask, cgroup quota); GoSched owns the rule.
func gcProcs() -> Int { Procs.gomaxprocs() }
