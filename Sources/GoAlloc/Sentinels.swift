// Sentinels in place of NULL on the fast paths: the arena index, HeapArena.spans and the thread's cache slot
// never hold NULL, so malloc and free test nothing for it. (mimalloc does the same with _mi_heap_empty.)
//
//   - The sentinel region (CGoRuntime: static, all zero, never written) read as a HeapArena has no spans, and
//     read as an MSpan is held by no cache, has no free slot and has limit 0 (free's limit test sends every
//     pointer to the slow path).
//   - Arena index entries and HeapArena.spans entries hold `address - sentinel`, so a zero entry (never written,
//     or cleared) decodes to the sentinel region itself: decoding is one add of MCache.sentinel, where a NULL
//     test was a compare and a branch. `decodeArena` / `decodeSpan` give nil for the sentinel, for slow paths.
//   - The empty MCache (CGoRuntime) is the TLS slot's value on a thread without a cache: its alloc slots and
//     arena table point at the sentinel region and its arena mask is 0, so malloc finds an empty span and free an empty arena, and both land in their slow paths (cMallocRefill, MCache.freeMiss), which test for it.
// Each image that links CGoRuntime (libGoMalloc.so, a Swift program using GoAlloc) has its own sentinel region;
// every cache records its image's (MCache.sentinel).
import CGoRuntime

/// The sentinel region's address: the bias of arena-index and HeapArena.spans entries.
@inline(__always) var sentinelAddress: UInt { UInt(bitPattern: gort_sentinel_address()) }

/// The empty MCache: the TLS slot's value on a thread that has no cache.
@inline(__always) var emptyCacheAddress: UnsafeMutablePointer<MCache> {
    gort_empty_mcache_address().assumingMemoryBound(to: MCache.self)
}

/// Entry for a table slot that holds `p` (an arena or a span, or nil for none).
@inline(__always) func sentinelEncode<T>(_ p: UnsafeMutablePointer<T>?) -> UInt64 {
    p == nil ? 0 : word(p) &- UInt64(sentinelAddress)
}

/// The arena or span an entry stands for; nil for the sentinel (a zero entry).
@inline(__always) func sentinelDecode<T>(_ e: UInt64, to: T.Type) -> UnsafeMutablePointer<T>? {
    e == 0 ? nil : UnsafeMutablePointer<T>(bitPattern: UInt(truncatingIfNeeded: e &+ UInt64(sentinelAddress)))
}

/// The fast paths' decoding: the sentinel region for a zero entry, never nil.
@inline(__always) func sentinelDecodeFast<T>(_ e: UInt64, bias: UInt, to: T.Type) -> UnsafeMutablePointer<T> {
    UnsafeMutablePointer<T>(bitPattern: UInt(truncatingIfNeeded: e) &+ bias).unsafelyUnwrapped
}

#if !hasFeature(Embedded)
/// Whether the C layout constants match the Swift types (SentinelTests; key paths are not available in the
/// Embedded build of libGoMalloc.so, whose layout is the same source compiled by the same compiler).
func sentinelLayoutProblem() -> StaticString? {
    if MemoryLayout<MCache>.offset(of: \MCache.heap) != Int(GORT_MCACHE_HEAP) * 8 { return "MCache.heap offset" }
    if MemoryLayout<MCache>.offset(of: \MCache.arenaFlat) != Int(GORT_MCACHE_ARENA_FLAT) * 8 { return "MCache.arenaFlat offset" }
    if MemoryLayout<MCache>.offset(of: \MCache.arenaMask) != Int(GORT_MCACHE_ARENA_MASK) * 8 { return "MCache.arenaMask offset" }
    if MemoryLayout<MCache>.offset(of: \MCache.sentinel) != Int(GORT_MCACHE_SENTINEL) * 8 { return "MCache.sentinel offset" }
    if MCache.headerBytes != Int(GORT_MCACHE_ALLOC) * 8 { return "MCache.headerBytes" }
    if numSpanClasses != Int(GORT_NUM_SPAN_CLASSES) { return "numSpanClasses" }
    if MCache.totalBytes > Int(GORT_EMPTY_MCACHE_WORDS) * 8 { return "MCache.totalBytes" }
    if Int(GORT_MALLOC_CLASS_BYTES) != maxSmallSize + 1 { return "GORT_MALLOC_CLASS_BYTES" }
    if HeapArena.spansOffset + pagesPerArena * 8 > Int(GORT_SENTINEL_BYTES) { return "HeapArena spans beyond the region" }
    if MemoryLayout<MSpan>.size > Int(GORT_SENTINEL_BYTES) { return "MSpan size" }
    if MemoryLayout<MSpan>.offset(of: \MSpan.allocCache) != 0 { return "MSpan.allocCache offset" }
    return nil
}
#endif
