// The process-default heap and its per-thread MCaches. Go: mheap_ and each P's mcache (here: each thread's).
//
// Lazy start, no constructors: the first malloc in the process creates the default heap (one thread wins a CAS
// on `defaultHeapWord`; others spin until it is published). A thread's first few hundred mallocs and frees
// (CABI.swift, youngHeap) use a cache shared by such young threads; then the thread gets its own MCache, stored in
// an initial-exec TLS slot (one %fs-relative load on the fast path). A pthread key's destructor hands the cache
// back when the thread exits, so no span is lost when threads come and go: the TLS slot is set before
// pthread_setspecific, because glibc may calloc inside it, and that calloc must find the cache.
// fork(): atfork handlers hold the young caches' locks and MHeap.lock across fork so the child inherits a consistent heap.
import CGoRuntime

/// MHeap address of the default heap; 0 before start, 1 while starting. Atomic: acquire loads see a fully
/// built heap because the creator publishes it with a release store.
nonisolated(unsafe) var defaultHeapWord: UInt64 = 0
/// Key whose destructor releases a thread's MCache. Written once by the creator before publication.
nonisolated(unsafe) var threadCacheKey: pthread_key_t = 0

/// The default heap, starting it if needed. nil only if the OS refuses the first mappings.
@inline(__always)
func defaultHeap() -> UnsafeMutablePointer<MHeap>? {
    let w = gort_load_acquire(&defaultHeapWord)
    if w > 1 { return asPointer(w, to: MHeap.self) }
    return startDefaultHeap()
}

@inline(never)
func startDefaultHeap() -> UnsafeMutablePointer<MHeap>? {
    var expected: UInt64 = 0
    if gort_cas_acqrel(&defaultHeapWord, &expected, 1) {
        guard let h = UnsafeMutablePointer<MHeap>.create(config: .fromEnvironment()) else {
            gort_store_release(&defaultHeapWord, 0)
            return nil
        }
        pthread_key_create(&threadCacheKey, { arg in
            guard let arg = arg else { return }
            releaseThreadCache(arg.assumingMemoryBound(to: MCache.self))
        })
        gort_store_release(&defaultHeapWord, word(h))
        // After publication: pthread_atfork may call malloc, which must now find the heap ready.
        _ = gort_atfork(forkPrepare, forkParent, forkChild)
        return h
    }
    while true {
        let w = gort_load_acquire(&defaultHeapWord)
        if w > 1 { return asPointer(w, to: MHeap.self) }
        if w == 0 { return startDefaultHeap() }
        gort_cpu_relax()
    }
}

/// This thread's cache of the default heap, or nil if it has none yet.
@inline(__always)
func currentThreadCache() -> UnsafeMutablePointer<MCache>? {
    let c = threadCacheOrEmpty()
    return c == emptyCacheAddress ? nil : c
}

/// The TLS slot as it is: this thread's cache, or the empty MCache (Sentinels.swift). For the fast paths.
@inline(__always)
func threadCacheOrEmpty() -> UnsafeMutablePointer<MCache> {
    gort_tls_get_mcache().unsafelyUnwrapped.assumingMemoryBound(to: MCache.self)
}

/// Sets the TLS slot: `c`, or the empty MCache for nil.
@inline(__always)
func setThreadCache(_ c: UnsafeMutablePointer<MCache>?) {
    gort_tls_set_mcache(UnsafeMutableRawPointer(c ?? emptyCacheAddress))
}

/// This thread's cache, creating it (and the default heap) if needed. nil when out of memory.
@inline(never)
func makeThreadCache() -> UnsafeMutablePointer<MCache>? {
    if let c = currentThreadCache() { return c }
    guard let h = defaultHeap(), let c = h.allocCache() else { return nil }
    c.pointee.ownerTid = Int32(gort_gettid())
    setThreadCache(c)
    pthread_setspecific(threadCacheKey, UnsafeRawPointer(c))
    if gort_tls_get_young_ops() & youngCountMask == youngThreadOps { releaseEmptyYoungSpans(h) }
    return c
}

/// Thread exit: every span of the cache goes back to its MCentral. Frees later in the thread's exit (other
/// keys' destructors) go through the heap without a cache instead of making a new one (CABI.swift).
func releaseThreadCache(_ c: UnsafeMutablePointer<MCache>) {
    if currentThreadCache() == c { setThreadCache(nil) }
    gort_tls_set_cache_released(1)
    c.pointee.heap.freeCache(c)
}

private func forkPrepare() {
    if let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1 {
        for i in 0..<youngCacheCount { h.youngCache(i).pointee.lock.lock() }
        h.pointee.lock.lock()
    }
}
private func forkParent() {
    if let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1 {
        h.pointee.lock.unlock()
        for i in 0..<youngCacheCount { h.youngCache(i).pointee.lock.unlock() }
    }
}
private func forkChild() {
    if let h = asPointer(gort_load_acquire(&defaultHeapWord), to: MHeap.self), UInt(bitPattern: h) > 1 {
        h.pointee.lock.resetAfterFork()
        for i in 0..<youngCacheCount { h.youngCache(i).pointee.lock.resetAfterFork() }
        // The scavenger thread did not survive the fork; the child starts its own when it needs one. Nor did a
        // thread caught sweeping (the spans it had popped stay out of their MCentral: a leak, not corruption).
        h.pointee.scav.started = false
        h.pointee.scav.sweeping = 0
        // A prefault window the parent's thread had not finished stays counted as resident; let the child's
        // thread take new ones (Prefault.swift).
        h.pointee.prefault.busy = false
        h.pointee.prefault.npages = 0
    }
}
