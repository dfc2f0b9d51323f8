// HeapArena: metadata for one 64 MiB arena, and the two-level arena index. Go: heapArena, mheap.arenas (mheap.go).
//
// Memory layout of one HeapArena mapping (its own mmap, never freed, lazily touched):
//   header (this struct) | pageFree | pageScavenged | pageZeroed | pageOldFree | spans | bitmap
// Page bitmaps: one bit per page (8192 bits = 128 words each), all guarded by MHeap.lock:
//   pageFree       1 = the page belongs to no span (the page allocator's state; Go: pallocBits, inverted)
//   pageScavenged  1 = the page was returned to the OS and not touched since (Go: scavenged bits)
//   pageZeroed     1 = the page is known to read as zero (fresh, or released with MADV_DONTNEED)
//   pageOldFree    1 = free and not yet released at the scavenger's previous pass (ages free pages)
// A page that is scavenged and not free is claimed by the scavenger while it releases it (claimedPages).
// spans[i]: the MSpan owning page i, or none, as `span - sentinel` (0: none; Sentinels.swift). Written under
// MHeap.lock with relaxed stores; read without a lock (Go's rule: reads are only meaningful for pages known to
// belong to an in-use span, such as a live pointer's).
// bitmap: one bit per heap word for the garbage collector's pointer maps (sized here; filled by GoGC).
import CGoRuntime

/// Go: heapArena.
public struct HeapArena {
    /// First byte of the arena (64 MiB aligned). Immutable.
    public var base: UInt = 0
    /// Free pages in the arena (MHeap.lock).
    var freePages: Int = pagesPerArena
    /// An upper bound on the longest run of free pages (MHeap.lock): frees raise it to the run they make,
    /// allocations leave it, and a search that finds no run where the bound promised one makes it exact. So
    /// neither path rescans the whole bitmap. Arenas whose bound is below a request are skipped.
    var maxRun: Int = pagesPerArena
    /// No page below this index is free (MHeap.lock). Go: pageAlloc.searchAddr. Searches start at its word.
    var searchStart: Int = 0
    /// Pages released to the OS (MHeap.lock).
    var scavengedPages: Int = pagesPerArena
    /// Pages the scavenger took off pageFree to release them without the lock (MHeap.lock): marked scavenged and
    /// not free, with no span, until it hands them back (Scavenger.swift). Go: the scavenger's page allocation.
    var claimedPages: Int = 0

    static let headerBytes = 64
    static let pageBitsBytes = pageWordsPerArena * 8
    static let spansOffset = headerBytes + 4 * pageBitsBytes
    static let bitmapOffset = spansOffset + pagesPerArena * 8
    /// Bytes of one HeapArena mapping.
    static let mappedBytes = (bitmapOffset + heapArenaBitmapWords * 8 + pageSize - 1) & ~(pageSize - 1)
}

enum PageBits: Int {
    case free = 0, scavenged = 1, zeroed = 2, oldFree = 3
}

extension UnsafeMutablePointer where Pointee == HeapArena {
    @inline(__always) func pageBits(_ k: PageBits) -> UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + HeapArena.headerBytes + k.rawValue * HeapArena.pageBitsBytes)
            .assumingMemoryBound(to: UInt64.self)
    }
    /// Go: heapArena.spans, as entries biased by the sentinel (Sentinels.swift): use span(at:) / setSpan.
    @inline(__always) var spanEntries: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + HeapArena.spansOffset).assumingMemoryBound(to: UInt64.self)
    }
    /// The span owning page `i` of the arena, or nil. Relaxed load (see the file comment).
    @inline(__always) func span(at i: Int) -> UnsafeMutablePointer<MSpan>? {
        sentinelDecode(gort_load_relaxed(spanEntries + i), to: MSpan.self)
    }
    /// Records `s` (or none) as page `i`'s span. Caller holds MHeap.lock.
    @inline(__always) func setSpan(_ i: Int, _ s: UnsafeMutablePointer<MSpan>?) {
        gort_store_relaxed(spanEntries + i, sentinelEncode(s))
    }
    /// Go: heapArena.bitmap. One bit per word of the arena; the GC's pointer bitmap.
    public var bitmap: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(self) + HeapArena.bitmapOffset).assumingMemoryBound(to: UInt64.self)
    }
    @inline(__always) func pageIndex(_ p: UInt) -> Int { Int((p &>> UInt(pageShift)) & UInt(pagesPerArena - 1)) }

    /// Checks the arena's page bookkeeping; returns the first violation, or nil. Caller holds MHeap.lock.
    func checkInvariants() -> StaticString? {
        let free = pageBits(.free)
        var nfree = 0, nclaimed = 0
        for w in 0..<pageWordsPerArena {
            nfree += free[w].nonzeroBitCount
            nclaimed += (pageBits(.scavenged)[w] & ~free[w]).nonzeroBitCount
        }
        if nfree != pointee.freePages { return "arena freePages != popcount(pageFree)" }
        if nclaimed != pointee.claimedPages { return "scavenged page not free (and not claimed by the scavenger)" }
        if PageBitmap.longestRun(free) > pointee.maxRun { return "arena maxRun below its longest free run" }
        if pointee.searchStart > 0 && PageBitmap.count(free, 0, pointee.searchStart) != 0 {
            return "free page below arena searchStart"
        }
        for i in 0..<pagesPerArena {
            let isFree = free[i >> 6] & (1 << UInt64(i & 63)) != 0
            let claimed = !isFree && pageBits(.scavenged)[i >> 6] & (1 << UInt64(i & 63)) != 0
            let s = gort_load_relaxed(spanEntries + i)
            if (isFree || claimed) && s != 0 { return "free page has a span" }
            if !isFree && !claimed && s == 0 { return "allocated page has no span" }
        }
        return nil
    }
}

/// Go: mheap.arenas, the two-level arena index `arenas[L1][L2]`: any address -> its arena's metadata in O(1).
/// With arenaL1Bits == 0 (64-bit Linux, as in Go) the single L2 table is mapped up front and `flat` points at it;
/// otherwise each L2 table is mapped when an arena first lands in its range. Entries are written once, under
/// MHeap.lock, with release stores, and never removed while the heap lives (arenas are unmapped only with the
/// whole heap: HeapTeardown.swift), so lookups need no lock: an acquire load sees a complete arena. An L2 entry holds `arena - sentinel` (0: none; Sentinels.swift).
struct ArenaIndex {
    var l1: UnsafeMutablePointer<UInt64>  // 1 << arenaL1Bits words: L2 table addresses
    /// l1[0]'s table when arenaL1Bits == 0 (immutable). Not counted in Sys, as Go does not count its L2 map.
    var flat: UnsafeMutablePointer<UInt64>

    init?() {
        guard let p = sysMap((1 << arenaL1Bits) * 8) else { return nil }
        l1 = p.assumingMemoryBound(to: UInt64.self)
        flat = l1
        if arenaL1Bits == 0 {
            guard let t = sysMap((1 << arenaL2Bits) * 8) else { return nil }
            flat = t.assumingMemoryBound(to: UInt64.self)
            l1[0] = UInt64(UInt(bitPattern: t))
        }
    }

    /// The arena holding `p`, or nil if `p` is not in any arena of this heap.
    @inline(__always)
    func arena(of p: UInt) -> UnsafeMutablePointer<HeapArena>? {
        if arenaL1Bits == 0 { return ArenaIndex.lookupFlat(flat, p) }
        if p &>> UInt(heapAddrBits) != 0 { return nil }
        let l2 = gort_load_acquire(l1 + Int(p &>> UInt(logHeapArenaBytes + arenaL2Bits)))
        if l2 == 0 { return nil }
        let slot = UnsafeMutablePointer<UInt64>(bitPattern: UInt(l2))! + Int((p &>> UInt(logHeapArenaBytes)) & UInt((1 << arenaL2Bits) - 1))
        return sentinelDecode(gort_load_acquire(slot), to: HeapArena.self)
    }

    /// The arena of `p` through `flat` with the arena number masked by `mask` (MCache.arenaMask): no bounds
    /// check, so an address beyond 2^48 aliases one below it, and no nil: a missing arena is the sentinel region
    /// (biased by `bias`, MCache.sentinel), whose spans are all the sentinel span. Only for callers that then
    /// check `p` against the span's limit (which every aliased address and the sentinel span fail): free's fast
    /// path.
    @inline(__always)
    static func lookupFlatMasked(_ flat: UnsafeMutablePointer<UInt64>, _ p: UInt, mask: UInt,
                                 bias: UInt) -> UnsafeMutablePointer<HeapArena> {
        let i = (p &>> UInt(logHeapArenaBytes)) & mask
        return sentinelDecodeFast(gort_load_acquire(flat + Int(i)), bias: bias, to: HeapArena.self)
    }

    /// The single-level lookup in table `flat` (arenaL1Bits == 0). MCache keeps a copy of `flat` for free.
    @inline(__always)
    static func lookupFlat(_ flat: UnsafeMutablePointer<UInt64>, _ p: UInt) -> UnsafeMutablePointer<HeapArena>? {
        let i = p &>> UInt(logHeapArenaBytes)
        if i >= UInt(1 << (heapAddrBits - logHeapArenaBytes)) { return nil }
        return sentinelDecode(gort_load_acquire(flat + Int(i)), to: HeapArena.self)
    }

    /// Records an arena. Caller holds MHeap.lock. Returns false if the L2 table cannot be mapped.
    func insert(_ a: UnsafeMutablePointer<HeapArena>) -> Bool {
        let base = a.pointee.base
        let i1 = Int(base >> UInt(logHeapArenaBytes + arenaL2Bits))
        var l2 = gort_load_acquire(l1 + i1)
        if l2 == 0 {
            guard let t = sysMap((1 << arenaL2Bits) * 8) else { return false }
            l2 = UInt64(UInt(bitPattern: t))
            gort_store_release(l1 + i1, l2)
        }
        let slot = UnsafeMutablePointer<UInt64>(bitPattern: UInt(l2))! + Int((base >> UInt(logHeapArenaBytes)) & UInt((1 << arenaL2Bits) - 1))
        gort_store_release(slot, sentinelEncode(a))
        return true
    }
}
