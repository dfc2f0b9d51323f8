import CGoRuntime

// Go: runtime.mutex / lock_futex.go. A futex mutex on a 32-bit word in raw memory.
//   key: 0 unlocked, 1 locked, 2 locked and someone may be sleeping on the futex.
// The uncontended path is one CAS (acquire) to lock and one exchange (release) to unlock. Held only for short,
// non-blocking critical sections (idle lists, the global run queue, a P's timer heap, a channel).

@inlinable @inline(__always)
func lockKey(_ key: UnsafeMutablePointer<UInt32>) {
    var expected: UInt32 = 0
    // acquire: the critical section's loads must not move above the lock.
    if gort_cas32_acquire(key, &expected, 1) { return }
    lockKeySlow(key)
}

@usableFromInline @inline(never)
func lockKeySlow(_ key: UnsafeMutablePointer<UInt32>) {
    // Spin briefly: critical sections are a few dozen instructions.
    for _ in 0..<100 {
        if gort_load32_relaxed(key) == 0 {
            var expected: UInt32 = 0
            if gort_cas32_acquire(key, &expected, 1) { return }
        }
        gort_cpu_relax()
    }
    // Drepper's mutex: mark contended (2) and sleep while it stays 2.
    while gort_exchange32_acquire(key, 2) != 0 {
        _ = gort_futex_wait(key, 2, -1)
    }
}

@inlinable @inline(__always)
func unlockKey(_ key: UnsafeMutablePointer<UInt32>) {
    // release: the critical section's stores are visible to the next owner.
    if gort_exchange32_release(key, 0) == 2 { unlockKeySlow(key) }
}

@usableFromInline @inline(never)
func unlockKeySlow(_ key: UnsafeMutablePointer<UInt32>) {
    _ = gort_futex_wake(key, 1)
}

/// A futex mutex usable from Swift classes (channels, wait groups): the word lives in its own allocation so
/// its address is stable and no exclusivity checks apply.
/// Go: runtime.mutex.
@usableFromInline
struct RawLock {
    @usableFromInline let key: UnsafeMutablePointer<UInt32>
    @usableFromInline init() {
        key = .allocate(capacity: 1)
        key.initialize(to: 0)
    }
    func deallocate() { key.deallocate() }
    @inlinable @inline(__always) func lock() { lockKey(key) }
    @inlinable @inline(__always) func unlock() { unlockKey(key) }
}
