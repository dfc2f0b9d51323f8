// A futex lock. Go: runtime.mutex (lock_futex.go).
import CGoRuntime

/// Go: runtime.mutex. Guards slow paths only (MHeap, FixAlloc, the cache list); no fast path takes it.
/// `key`: 0 unlocked, 1 locked, 2 locked with (possible) sleepers. Touched only through atomics:
/// acquire on lock so the critical section sees the previous holder's writes, release on unlock.
struct RuntimeLock {
    var key: UInt32 = 0

    @inline(__always)
    mutating func lock() {
        var expected: UInt32 = 0
        if gort_cas32_acquire(&key, &expected, 1) { return }
        lockSlow()
    }

    /// Leaves errno as it found it: a malloc that succeeds must not change errno, and a futex wait that returns
    /// EAGAIN or EINTR would.
    @inline(never)
    mutating func lockSlow() {
        // Spin briefly (the holder is usually on another core and about to finish), then sleep.
        for _ in 0..<100 {
            var expected: UInt32 = 0
            if gort_load32_relaxed(&key) == 0 && gort_cas32_acquire(&key, &expected, 1) { return }
            gort_cpu_relax()
        }
        let e = gort_errno()
        while gort_exchange32_acquire(&key, 2) != 0 {
            _ = gort_futex_wait(&key, 2, -1)
        }
        gort_set_errno(e)
    }

    /// Takes the lock only if it is free (acquire, as lock). For work that may be skipped when someone else is busy.
    @inline(__always)
    mutating func tryLock() -> Bool {
        var expected: UInt32 = 0
        return gort_cas32_acquire(&key, &expected, 1)
    }

    @inline(__always)
    mutating func unlock() {
        if gort_exchange32_release(&key, 0) == 2 { wakeOne() }
    }

    @inline(never)
    mutating func wakeOne() {
        let e = gort_errno()
        _ = gort_futex_wake(&key, 1)
        gort_set_errno(e)
    }

    /// After fork() in the child: the other threads are gone, so nobody else can hold it.
    mutating func resetAfterFork() { key = 0 }
}
