// Per-P caches for a scheduler (GoSched), in the C ABI so that they also work across the library boundary.
// Go: each P owns an mcache and the M running the P allocates from it (mcache.go, procresize/acquirep).
//
// GoSched gives each P an MCache of the process-default heap and, while an M holds the P, makes it the M's
// thread cache: the TLS slot `gort_tls_mcache` then points at the P's cache, so malloc on that thread (Swift
// task frames, job records) takes the P's spans. When libGoMalloc.so is the process malloc, it holds the one
// default heap and its own, private copy of the TLS slot, so GoSched reaches both through these three exported
// names (`gomalloc_*`, kept by exports.map) found with dlsym in the object that provides `malloc`. Without
// libGoMalloc.so, GoSched calls the same functions in its own image. Either way there is one heap per process.
//
// Contract: a cache from gomalloc_cache_create belongs to no thread until bound; it is bound on at most one
// thread at a time, and the binder restores the slot's previous value (its own thread cache, or nil) before
// the cache moves to another thread or is destroyed.
import CGoRuntime

/// A new MCache of the default heap (started if needed), owned by no thread. NULL when out of memory.
@_cdecl("gomalloc_cache_create")
public func gomalloc_cache_create() -> UnsafeMutableRawPointer? {
    guard let h = defaultHeap(), let c = h.allocCache() else { return nil }
    c.pointee.ownerTid = 0  // owned by a P, not a thread
    return UnsafeMutableRawPointer(c)
}

/// Makes `c` (a cache from gomalloc_cache_create, or NULL) the calling thread's cache and returns the previous
/// one. Does not register `c` for release at thread exit: the caller swaps the previous value back first.
@_cdecl("gomalloc_cache_swap")
public func gomalloc_cache_swap(_ c: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let old = currentThreadCache()
    setThreadCache(c?.assumingMemoryBound(to: MCache.self))
    return old.map { UnsafeMutableRawPointer($0) }
}

/// Hands every span of `c` back to the heap and frees it. `c` must be bound on no thread.
@_cdecl("gomalloc_cache_destroy")
public func gomalloc_cache_destroy(_ c: UnsafeMutableRawPointer) {
    let mc = c.assumingMemoryBound(to: MCache.self)
    mc.pointee.heap.freeCache(mc)
}
