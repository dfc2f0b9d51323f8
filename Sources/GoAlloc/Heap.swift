// The Swift API. A `Heap` is one instance of the whole allocator (arenas, MHeap, MCentrals); tests create
// several, and `Heap.default` is the process's (the one libGoMalloc.so's malloc uses when preloaded).
// A `Cache` is an MCache: one per thread or per scheduler P, used by one thread at a time.
//
//   let heap = Heap.default
//   let p = heap.allocate(byteCount: 100, alignment: 16)   // this thread's cache
//   heap.deallocate(p)
//   print(heap.memStats.text)
//
//   let h = Heap.create()!                  // a private heap
//   let c = h.makeCache()!                  // its cache for this thread
//   let q = c.allocate(byteCount: 64)!
//   c.deallocate(q)                         // owner free: no atomics
//   c.release()                             // spans back to the heap
//
// Handles are plain pointers: no ARC, free to copy, Sendable by contract (a Cache must not be used by two
// threads at once). Misuse (bad pointer, double free) aborts with a message, as free(3) does here.

import CGoRuntime

/// One allocator instance. Go: mheap plus its arenas.
public struct Heap: @unchecked Sendable, Hashable {
    public let raw: UnsafeMutablePointer<MHeap>

    public init(raw: UnsafeMutablePointer<MHeap>) { self.raw = raw }

    /// A new, independent heap. nil if the OS refuses memory.
    public static func create(config: HeapConfig = .fromEnvironment()) -> Heap? {
        UnsafeMutablePointer<MHeap>.create(config: config).map(Heap.init(raw:))
    }

    /// The process-default heap (created on first use; the one C's malloc uses under libGoMalloc.so).
    public static var `default`: Heap {
        guard let h = defaultHeap() else { fatal("cannot map the default heap") }
        return Heap(raw: h)
    }

    /// The process-default heap if it has been started, without starting it.
    public static var existingDefault: Heap? {
        let w = gort_load_acquire(&defaultHeapWord)
        return w > 1 ? Heap(raw: asPointer(w, to: MHeap.self)!) : nil
    }

    /// Whether this is the process-default heap.
    public var isDefault: Bool { UInt64(UInt(bitPattern: raw)) == gort_load_acquire(&defaultHeapWord) }

    /// Returns all of this heap's memory to the OS and stops its background thread: its arenas, metadata and
    /// caches are unmapped, so every object allocated from it and every Cache made from it is invalid after.
    /// For heaps made with `create` (a collector's, a test's) that nothing uses any more; the caller guarantees
    /// that no thread touches the heap again. The default heap cannot be destroyed (a fatal error).
    public func destroy() { raw.destroy() }

    /// A new MCache for the calling thread (or a P). nil if out of memory.
    public func makeCache() -> Cache? { raw.allocCache().map(Cache.init(raw:)) }

    /// The calling thread's cache of the default heap (created on first use). Only for the default heap.
    public static var threadCache: Cache? { makeThreadCache().map(Cache.init(raw:)) }

    /// Allocates from the default heap with the calling thread's cache; from a private heap, use a Cache.
    /// `alignment` is a power of two. Returns nil when out of memory.
    public func allocate(byteCount: Int, alignment: Int = 16) -> UnsafeMutableRawPointer? {
        precondition(isDefault, "Heap.allocate without a Cache is for Heap.default; use makeCache()")
        return Heap.threadCache?.allocate(byteCount: byteCount, alignment: alignment)
    }

    /// Frees `p` from any thread. For the default heap the calling thread's cache is used if it owns the span.
    public func deallocate(_ p: UnsafeMutableRawPointer) {
        let c = isDefault ? currentThreadCache() : nil
        raw.free(c, UInt(bitPattern: p), call: "Heap.deallocate")
    }

    /// Bytes usable at `p`, which must be a live object of this heap.
    public func usableSize(_ p: UnsafeRawPointer) -> Int {
        Int(raw.usableSize(UInt(bitPattern: p), call: "Heap.usableSize"))
    }

    /// Whether `p` is the start of an object slot of this heap (any address is safe to ask about).
    public func owns(_ p: UnsafeRawPointer) -> Bool { raw.owns(UInt(bitPattern: p)) }

    /// Go: runtime.ReadMemStats.
    public var memStats: MemStats { raw.readMemStats() }

    /// Go: debug.FreeOSMemory. Sweeps uncached spans and returns all free pages to the OS. Returns bytes released.
    @discardableResult public func releaseMemory() -> Int { raw.releaseMemory() }

    /// Every arena and in-use span as JSON (see HeapDump.swift).
    public var heapDump: String { raw.heapDumpJSON() }

    /// Checks every structure's invariants. Call while no other thread uses the heap. nil when all hold,
    /// else a description of the first violation.
    public func checkInvariants() -> String? { raw.checkAllInvariants().map { "\($0)" } }

    /// The arena holding `p` (nil if none): the two-level arena index.
    public func arena(of p: UnsafeRawPointer) -> UnsafeMutablePointer<HeapArena>? {
        raw.pointee.index.arena(of: UInt(bitPattern: p))
    }

    /// The in-use span holding `p`, if any.
    public func span(of p: UnsafeRawPointer) -> UnsafeMutablePointer<MSpan>? { raw.spanOf(UInt(bitPattern: p)) }
}

/// An MCache handle. Go: *mcache.
public struct Cache: @unchecked Sendable, Hashable {
    public let raw: UnsafeMutablePointer<MCache>
    public init(raw: UnsafeMutablePointer<MCache>) { self.raw = raw }

    public var heap: Heap { Heap(raw: raw.pointee.heap) }

    /// Allocates `byteCount` bytes aligned to `alignment` (power of two). `noscan`: the object holds no
    /// pointers the garbage collector must trace (malloc's objects are all noscan). nil when out of memory.
    @inline(__always)
    public func allocate(byteCount: Int, alignment: Int = 16, noscan: Bool = true, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        let v = raw.pointee.heap.malloc(raw, UInt(bitPattern: byteCount), align: UInt(bitPattern: alignment),
                                        noscan: noscan, cAligned: alignment >= 16, zero: zeroed)
        return UnsafeMutableRawPointer(bitPattern: v)
    }

    /// Go's tiny allocator: `byteCount` < 16, pointer-free, never freed individually (GC use). nil when out of memory.
    public func allocateTiny(byteCount: Int) -> UnsafeMutableRawPointer? {
        precondition(byteCount > 0 && byteCount < tinySize, "tiny objects are 1...15 bytes")
        return UnsafeMutableRawPointer(bitPattern: raw.allocTiny(UInt(byteCount)))
    }

    /// Frees `p`; cheap when this cache holds `p`'s span, safe from any thread either way.
    @inline(__always)
    public func deallocate(_ p: UnsafeMutableRawPointer) {
        raw.pointee.heap.free(raw, UInt(bitPattern: p), call: "Cache.deallocate")
    }

    /// Hands every cached span back to the heap and destroys the cache (thread exit). The handle is dead after.
    public func release() { raw.pointee.heap.freeCache(raw) }

    /// Hands every cached span back but keeps the cache usable.
    public func flush() { raw.releaseAll() }

    /// The span this cache allocates from for `spanclass`, or nil.
    public func cachedSpan(_ spanclass: SpanClass) -> UnsafeMutablePointer<MSpan>? {
        let s = raw.allocSlot(spanclass.index).pointee
        return s == raw.pointee.heap.pointee.emptySpan ? nil : s
    }
}

// Read-only views for tests and tools.
extension UnsafeMutablePointer where Pointee == MSpan {
    public var base: UInt { pointee.startAddr }
    public var pageCount: Int { Int(pointee.npages) }
    public var objectSize: Int { Int(pointee.elemsize) }
    public var objectCount: Int { Int(pointee.nelems) }
    public var allocatedCount: Int { Int(liveCount) }
    public var spanClass: SpanClass { pointee.spanclass }
    public var state: MSpanState { MSpanState(rawValue: pointee.state) ?? .dead }
    public var needsZeroing: Bool { pointee.needzero != 0 }
    /// Whether object `i`'s allocBits bit is set.
    /// Whether object `i` is allocated (its allocBits bit, unless it sits free in the cache word: MSpan.swift).
    public func isAllocated(_ i: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(i & 63)
        let wp = pointee.allocBits + (i >> 6)
        return gort_load_relaxed(wp) & bit != 0 && !isFreeInCacheWord(UInt64(i >> 6), bit)
    }
    /// Object index of `p` by the span's division magic.
    public func objectIndex(_ p: UnsafeRawPointer) -> Int { Int(objIndex(UInt(bitPattern: p))) }
    public var invariantViolation: StaticString? { checkInvariants() }
}

extension UnsafeMutablePointer where Pointee == HeapArena {
    public var freePageCount: Int { pointee.freePages }
    /// Exact (a scan of the free-page bitmap); the page allocator itself keeps only an upper bound.
    public var longestFreeRun: Int { PageBitmap.longestRun(pageBits(.free)) }
    public var releasedPageCount: Int { pointee.scavengedPages }
}
