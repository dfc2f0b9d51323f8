// MHeap: the page heap. Go: mheap (mheap.go), pageAlloc (mpagealloc.go).
//
// MHeap owns the arenas, the page allocator, the MCentrals and all metadata allocators. It hands out spans
// (runs of pages) to MCentral.grow and to large objects, and takes them back when they are empty.
//
// Page allocator: each arena keeps a free-page bitmap plus its longest free run; a request for n pages scans
// arenas in address order (first fit, so the heap stays compact and high arenas drain), skipping any whose
// longest run is too short, and finds the run with word-at-a-time bit scans. Freeing sets the bits back, which
// coalesces with free neighbours for free. Requests larger than an arena take whole free arenas that are
// adjacent in memory, or new contiguous arenas. The heap grows by whole 64 MiB arenas, mapped at increasing
// hint addresses (Go's 0x00c0 << 32 on amd64) so arenas tend to be contiguous.
//
// Locking: `lock` guards the page allocator, arena list, allspans, dead-span list, the FixAllocs, the cache
// list and the large-object statistics. Fast paths never take it; MCentral is lock-free above it.
import CGoRuntime

/// Go: mheap.
public struct MHeap {
    /// Guards everything below that does not say otherwise.
    var lock = RuntimeLock()
    /// The lock word gets a cache line of its own: free's fast path reads `index` on every call, from every
    /// thread, and must not miss whenever some thread takes the lock.
    var lockPad: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
    /// Go: mheap.arenas. Lock-free reads (see ArenaIndex).
    var index: ArenaIndex
    /// Every arena, in address order (Go: mheap.allArenas). `arenaCount` written under lock.
    var arenas: UnsafeMutablePointer<UnsafeMutablePointer<HeapArena>>
    var arenaCount = 0
    var arenaCapacity = 0
    /// The largest request or alignment worth trying: RAM + swap (set at init; read-only after).
    var maxRequestBytes: UInt = 1 << 46
    /// Where the next arena is asked for (Go: arenaHints).
    var arenaHint: UInt = 0x00c0 << 32
    /// Go: mheap.allspans. Every MSpan struct ever made; dead ones stay, for reuse and for heap dumps.
    var allspans: UnsafeMutablePointer<UnsafeMutablePointer<MSpan>>
    var allspansCount = 0
    var allspansCapacity = 0
    /// GODEBUG=allocchecks=1: slow-path events since the last whole-heap check, times 64 (checkInvariantsAmortizedLocked).
    /// Under `lock`.
    var checkDebt = 0
    /// Dead MSpan structs, linked through `next`.
    var deadSpans: UnsafeMutablePointer<MSpan>? = nil
    /// Go: mheap.spanalloc, mheap.cachealloc. Span bitmaps come from bitsAlloc[log2(words)] (Go: gcBits arenas).
    var spanalloc = FixAlloc(size: MemoryLayout<MSpan>.stride)
    var cachealloc = FixAlloc(size: MCache.totalBytes)
    /// Bitmaps of up to two words live inside their MSpan (MSpan.inlineBits); larger pairs come from here, each
    /// at least a whole cache line (64 bytes, and FixAlloc keeps them 64-aligned): the holder writes allocBits on
    /// every malloc and free, so two spans held by two threads must not share a line. Entries 0 and 1 are unused.
    /// Entries 5 to 7 serve heaps with bigger spans (HeapConfig.minSmallSpanPages: up to 8,192 objects).
    var bitsAlloc: (FixAlloc, FixAlloc, FixAlloc, FixAlloc, FixAlloc, FixAlloc, FixAlloc, FixAlloc) =
        (FixAlloc(size: 64), FixAlloc(size: 64), FixAlloc(size: 64), FixAlloc(size: 128), FixAlloc(size: 256),
         FixAlloc(size: 512), FixAlloc(size: 1024), FixAlloc(size: 2048))
    /// Blocks that caches carve their spans' records and bitmaps from (CacheMetadata.swift); bytes of them
    /// dropped (remainders too small to carve from); remainders of freed caches waiting for a new one. The bytes
    /// carved are counted by the FixAllocs they stand for (`carved`; sum: metaCarved). All under lock.
    var metaBlocks = FixAlloc(size: metaBlockBytes)
    var metaDropped = 0
    var metaSpare: UnsafeMutablePointer<MetaRemainder>? = nil
    /// Go: mheap.central. numSpanClasses MCentrals, MCentral.stride bytes apart, in their own mapping.
    var central: UnsafeMutablePointer<MCentral>
    /// The span every MCache slot points at when it holds nothing (Go: emptymspan): its allocCache is 0,
    /// so the fast path falls through to refill without a nil check.
    var emptySpan: UnsafeMutablePointer<MSpan>
    /// Live MCaches, linked through MCache.nextCache.
    var caches: UnsafeMutablePointer<MCache>? = nil
    /// Statistics (see MemStats.swift). `stats` fields: under lock unless noted.
    var stats = HeapStats()
    /// Per size class: [2 * sc + 1] frees flushed from dead caches and freed spans, cache-less frees and GC
    /// sweeps (atomic adds, relaxed: statistics); [2 * sc] and [2 * numSizeClasses + sc] scratch for readMemStats
    /// (under lock). 3 * numSizeClasses words in their own mapping.
    var classCounts: UnsafeMutablePointer<UInt64>
    /// Options read at creation (GODEBUG and friends). Immutable afterwards.
    public var config: HeapConfig
    /// Background scavenger state (Scavenger.swift).
    var scav = ScavengerState()
    /// Prefault windows ahead of heap growth (Prefault.swift).
    var prefault = PrefaultState()
    /// A garbage collector's sweep of a span that MCentral.cacheSpan takes from an unswept set, before it
    /// looks at the span's free count (Go: mcentral.cacheSpan sweeps the spans it takes). nil for heaps without
    /// a collector. Its first argument is the span (raw: MSpan is not a C type). Set once by the collector
    /// before anything is allocated (GCSupport.gcSetSweepHook);
    /// immutable afterwards, read without the lock. The callee holds the span exclusively.
    var gcSweepHook: (@convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer?) -> Void)? = nil
    var gcSweepContext: UnsafeMutableRawPointer? = nil

    /// Bytes of metadata mapped outside FixAlloc (arena index, centrals, arena headers, lists).
    var metaSys = 0
    /// The caches shared by young threads (threads without an MCache of their own yet: CABI.swift), each on a
    /// line of its own (young threads write its lock word; refills everywhere read gcSweepHook above): the
    /// padding ends on a line boundary (MHeap is mapped page-aligned; SpanTests.testHotMetadataLayout checks the
    /// offset). Lock order: a YoungCache's lock, then lock.
    var youngPad: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var young: (YoungCache, YoungCache, YoungCache, YoungCache) = (YoungCache(), YoungCache(), YoungCache(), YoungCache())
    /// The next young thread's YoungCache, round robin (relaxed fetch_add by each thread's first young malloc).
    var youngNext: UInt64 = 0
}

/// One of the caches young threads share (CABI.swift): `cache`, made on first use, and the lock a young
/// thread's whole malloc runs under; `cache` and the counters are read and written only under `lock`, and the
/// cache is used only by the lock's holder. `mallocs`: young mallocs so far; `mallocsAtGraduation`: their number
/// when a thread last left the young threads (releaseEmptyYoungSpans). One cache line.
struct YoungCache {
    var lock = RuntimeLock()
    var cache: UnsafeMutablePointer<MCache>? = nil
    var mallocs: UInt64 = 0
    var mallocsAtGraduation: UInt64 = 0
    private var pad: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
}

/// allspans' first mapping: 16,384 span records (a 128 MiB heap of one-page spans); it doubles when full.
let allspansInitialBytes = 1 << 17
/// The class counters' mapping (MHeap.classCounts: three words per size class). Create and destroy use it.
let classCountsBytes = numSizeClasses * 24

extension MHeap {
    /// Bytes carved from metaBlocks: what the FixAllocs whose objects they stand for count as `carved`.
    var metaCarved: Int {
        spanalloc.carved + bitsAlloc.0.carved + bitsAlloc.1.carved + bitsAlloc.2.carved + bitsAlloc.3.carved
            + bitsAlloc.4.carved + bitsAlloc.5.carved + bitsAlloc.6.carved + bitsAlloc.7.carved
    }
}

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Creates a heap in fresh OS memory. nil if the OS refuses memory.
    static func create(config: HeapConfig) -> UnsafeMutablePointer<MHeap>? {
        let centralBytes = numSpanClasses * MCentral.stride
        guard let raw = sysMap(MemoryLayout<MHeap>.stride),
              let index = ArenaIndex(),
              let arenasMem = sysMap(1 << 20),   // 131072 arenas = 8 TiB of heap
              let spansMem = sysMap(allspansInitialBytes),  // doubles when full (growAllspansLocked)
              let centralMem = sysMap(centralBytes),
              let counts = sysMap(classCountsBytes)
        else { return nil }
        let h = raw.bindMemory(to: MHeap.self, capacity: 1)
        let central = centralMem.bindMemory(to: MCentral.self, capacity: numSpanClasses)
        precondition(MemoryLayout<MCentral>.stride == MCentral.stride, "MCentral must fill one cache line")
        precondition(MemoryLayout<MSpan>.stride == MSpan.stride, "MSpan must be three cache lines")
        for i in 0..<numSpanClasses { (central + i).initialize(to: MCentral()) }
        h.initialize(to: MHeap(
            index: index,
            arenas: arenasMem.bindMemory(to: UnsafeMutablePointer<HeapArena>.self, capacity: 1),
            allspans: spansMem.bindMemory(to: UnsafeMutablePointer<MSpan>.self, capacity: 1),
            central: central,
            emptySpan: UnsafeMutablePointer<MSpan>(bitPattern: 8)!,
            classCounts: counts.bindMemory(to: UInt64.self, capacity: numSizeClasses * 3),
            config: config))
        h.pointee.arenaCapacity = (1 << 20) / 8
        h.pointee.maxRequestBytes = sysMemoryLimit()
        h.pointee.allspansCapacity = allspansInitialBytes / 8
        h.pointee.metaSys = MemoryLayout<MHeap>.stride + (1 << arenaL1Bits) * 8 + centralBytes + classCountsBytes
        h.pointee.lock.lock()
        guard let e = h.pointee.spanalloc.alloc() else { h.pointee.lock.unlock(); return nil }
        h.pointee.lock.unlock()
        h.pointee.emptySpan = e.bindMemory(to: MSpan.self, capacity: 1)
        h.pointee.emptySpan.initialize(to: MSpan())
        return h
    }

    @inline(__always) func central(_ spc: SpanClass) -> UnsafeMutablePointer<MCentral> {
        (UnsafeMutableRawPointer(pointee.central) + spc.index * MCentral.stride).assumingMemoryBound(to: MCentral.self)
    }

    /// Go: spanOf. The in-use span containing `p`, or nil. No lock: see HeapArena.spans.
    @inline(__always)
    func spanOf(_ p: UInt) -> UnsafeMutablePointer<MSpan>? {
        guard let a = pointee.index.arena(of: p) else { return nil }
        return a.span(at: a.pageIndex(p))
    }

    // ---- spans -------------------------------------------------------------------------------------------

    /// Pages of a span of small size class `sc` in this heap: the class table's, or config.minSmallSpanPages
    /// for objects up to 1 KiB if that is more. Immutable per heap.
    @inline(__always)
    func spanPages(ofClass sc: Int) -> Int {
        let np = sizeClassNPages(sc)
        // At most 8: bitsAlloc holds bitmaps of up to 8,192 objects (2^7 words).
        let minPages = Swift.min(pointee.config.minSmallSpanPages, 8)
        return minPages > np && sizeClassSize(sc) <= 1024 ? minPages : np
    }

    /// Go: mheap.alloc. A span of `npages` pages whose start is a multiple of `alignPages` pages, set up for
    /// `spanclass`, in use, held exclusively by the caller. nil when the OS refuses memory. A small class's
    /// span holds as many objects as its pages do (more than the class table's count when the heap asks for
    /// bigger spans: spanPages).
    /// `c`: the cache the span is for, whose own blocks its record and bitmaps come from (CacheMetadata.swift).
    func allocSpan(npages: Int, spanclass: SpanClass, alignPages: Int,
                   for c: UnsafeMutablePointer<MCache>? = nil) -> UnsafeMutablePointer<MSpan>? {
        let nelems = spanclass.sizeclass == 0 ? 1 : (npages << pageShift) / sizeClassSize(spanclass.sizeclass)
        let bitsLog = nelems <= 64 ? 0 : (64 - UInt64((nelems + 63) / 64 - 1).leadingZeroBitCount)
        pointee.lock.lock()
        var base = pageAllocLocked(npages, alignPages)
        if base == 0 && gort_load_relaxed(&pointee.scav.sweepPending) != 0 && pointee.gcSweepHook == nil {
            // Go: mheap.alloc sweeps (reclaim) before it grows the heap. Spans that remote frees emptied while no
            // cache held them wait for a sweep: the background pass (every scavengePeriodMs, and none at all with
            // GODEBUG=bgscavenge=0 or without a thread) or the next cacheSpan of their class, which may never
            // come. Without this, a program that frees each size class from another thread and moves on to the
            // next grew by a class's worth of memory each time (a helper's test: 901 MB for 20 MB live with
            // bgscavenge=0, 177 MB with the background pass). If another thread is sweeping, we grow instead.
            // (Garbage-collected heaps have no remote frees; their sweeps go through gcSweepHook.)
            pointee.lock.unlock()
            sweepCentrals(all: false)
            pointee.lock.lock()
            base = pageAllocLocked(npages, alignPages)
        }
        if base == 0 {
            if growLocked(npages, alignPages) { base = pageAllocLocked(npages, alignPages) }
            if base == 0 { pointee.lock.unlock(); return nil }
        }
        guard let s = allocMSpanLocked(c) else { pointee.lock.unlock(); return nil }
        guard let bits = allocBitsLocked(bitsLog, for: s, c) else {
            s.pointee.next = pointee.deadSpans  // the pages were never marked allocated: nothing else to undo
            pointee.deadSpans = s
            pointee.lock.unlock()
            return nil
        }
        s.pointee.startAddr = base
        s.pointee.npages = UInt(npages)
        s.pointee.needzero = needZeroLocked(base, npages) ? 1 : 0
        let tookFresh = markPagesAllocatedLocked(base, npages) > 0
        s.initAlloc(spanclass: spanclass, bits: bits, bitsLog: bitsLog)
        s.pointee.state = MSpanState.inUse.rawValue
        setSpansLocked(base, npages, s)
        pointee.stats.inusePages += npages
        pointee.scav.peakInusePages = max(pointee.scav.peakInusePages, pointee.stats.inusePages)
        pointee.stats.spansInUse += 1
        if spanclass.sizeclass == 0 {
            pointee.stats.largeAllocs += 1
            pointee.stats.largeAllocBytes += UInt64(npages << pageShift)
        }
        let startScavenger = pointee.config.backgroundScavenger && !pointee.scav.started
            && pointee.stats.inusePages >= ScavengerState.startPages
        if startScavenger { pointee.scav.started = true }
        let wake = spanclass.sizeclass != 0 && pointee.scav.started && pointee.config.prefault
            && prefaultAheadLocked(end: base + UInt(npages << pageShift), tookFresh: tookFresh)
        // GOMEMLIMIT: over it, this allocation releases the excess (Go: allocSpan's synchronous scavenge), unless
        // the pages in use alone exceed the limit: then no release can reach it, and releasing on every span would
        // re-fault the same free pages over and over (`large` at GOMEMLIMIT=32MiB: 10x slower). The background
        // scavenger still releases free pages each pass.
        let limit = pointee.config.memoryLimit
        let over = limit != .max && retainedBytesLocked() > limit && UInt64(pointee.stats.inusePages * pageSize) < limit
        if pointee.config.checkInvariants { checkInvariantsAmortizedLocked() }
        pointee.lock.unlock()
        if startScavenger {
            // Not under a young thread's YoungCache lock (CABI.swift, youngStartScavenger): youngMalloc starts it.
            let ops = gort_tls_get_young_ops()
            if ops & youngInside != 0 { gort_tls_set_young_ops(ops | youngStartScavenger) } else { startBackgroundScavenger() }
        }
        if wake { wakeBackground() }
        if over { scavenge(all: true, goal: limit) }
        return s
    }

    /// Go: mheap.freeSpan. Returns an empty span's pages to the page allocator. Caller holds the span exclusively.
    func freeSpan(_ s: UnsafeMutablePointer<MSpan>) {
        pointee.lock.lock()
        if s.pointee.state != MSpanState.inUse.rawValue {
            fatal("span freed twice", call: "freeSpan", pointer: s.pointee.startAddr)
        }
        let base = s.pointee.startAddr
        let npages = Int(s.pointee.npages)
        // The span's own count of local frees joins its class's (MSpan.localFrees): the struct is reused next.
        if s.pointee.localFrees != 0 {
            gort_fetch_add_relaxed(pointee.classCounts + 2 * s.pointee.spanclass.sizeclass + 1, s.pointee.localFrees)
            gort_store_relaxed(&s.pointee.localFrees, 0)
        }
        setSpansLocked(base, npages, nil)
        pageFreeLocked(base, npages)
        if s.pointee.spanclass.sizeclass == 0 {
            pointee.stats.largeFrees += 1
            pointee.stats.largeFreeBytes += UInt64(npages << pageShift)
        }
        pointee.stats.inusePages -= npages
        pointee.stats.spansInUse -= 1
        freeBitsLocked(s.pointee.allocBits, Int(s.pointee.bitsLog), of: s)
        s.pointee.state = MSpanState.dead.rawValue
        gort_store32_release(&s.pointee.gen, s.pointee.gen &+ 1)
        s.pointee.next = pointee.deadSpans
        pointee.deadSpans = s
        let bulk = bulkReleaseDueLocked()
        if pointee.config.checkInvariants { checkInvariantsAmortizedLocked() }
        pointee.lock.unlock()
        if bulk { wakeBackground() }
    }

    /// Whether a big heap has shrunk enough for a bulk release (Scavenger.swift); if so, records the request.
    @inline(__always)
    private func bulkReleaseDueLocked() -> Bool {
        let inuse = pointee.stats.inusePages
        if inuse &* 2 > pointee.scav.peakInusePages || !pointee.scav.started || pointee.scav.bulkPending
            || !pointee.config.bulkRelease
        {
            return false
        }
        let idle = Int(retainedBytesLocked() >> UInt64(pageShift)) - inuse
        if idle < ScavengerState.bulkIdlePages { return false }
        let now = UInt64(nanotime())
        if pointee.scav.lastBulkNS != 0 && now &- pointee.scav.lastBulkNS < ScavengerState.bulkMinIntervalNS { return false }
        pointee.scav.lastBulkNS = now
        pointee.scav.peakInusePages = inuse
        pointee.scav.bulkPending = true
        pointee.scav.bulkReleases += 1
        return true
    }

    private func allocMSpanLocked(_ c: UnsafeMutablePointer<MCache>?) -> UnsafeMutablePointer<MSpan>? {
        if let s = pointee.deadSpans {
            pointee.deadSpans = s.pointee.next
            let gen = s.pointee.gen
            s.initialize(to: MSpan())
            s.pointee.gen = gen
            return s
        }
        if pointee.allspansCount == pointee.allspansCapacity && !growAllspansLocked() { return nil }
        let record: UnsafeMutableRawPointer?
        if let c {
            record = carveMetaLocked(c, MSpan.stride)
            if record != nil { countCarvedLocked(&pointee.spanalloc, MSpan.stride) }
        } else {
            record = pointee.spanalloc.alloc()
        }
        guard let raw = record else { return nil }
        let s = raw.bindMemory(to: MSpan.self, capacity: 1)
        s.initialize(to: MSpan())
        pointee.allspans[pointee.allspansCount] = s
        pointee.allspansCount += 1
        return s
    }

    /// Doubles allspans' capacity: a new mapping, the entries copied, the old one unmapped. Every reader holds
    /// MHeap.lock, as we do. Starting small and growing, where a single reservation for any heap would do, keeps
    /// the heap's address space modest: a process under `ulimit -v 1000000` (RLIMIT_AS, which counts
    /// MAP_NORESERVE reservations too) could not start with the 1 GiB reservation this replaced.
    private func growAllspansLocked() -> Bool {
        let oldBytes = pointee.allspansCapacity * 8
        guard let mem = sysMap(oldBytes * 2) else { return false }
        mem.copyMemory(from: UnsafeRawPointer(pointee.allspans), byteCount: oldBytes)
        sysFree(UnsafeMutableRawPointer(pointee.allspans), oldBytes)
        pointee.allspans = mem.bindMemory(to: UnsafeMutablePointer<MSpan>.self, capacity: pointee.allspansCapacity * 2)
        pointee.allspansCapacity *= 2
        return true
    }

    /// Room for span `s`'s two bitmaps of 2^log words each: inside `s` (MSpan.inlineBits) when they fit there,
    /// else from bitsAlloc.
    private func allocBitsLocked(_ log: Int, for s: UnsafeMutablePointer<MSpan>,
                                 _ c: UnsafeMutablePointer<MCache>?) -> UnsafeMutablePointer<UInt64>? {
        if log <= MSpan.inlineBitsLog {
            return (UnsafeMutableRawPointer(s) + MSpan.inlineBitsOffset).assumingMemoryBound(to: UInt64.self)
        }
        let fa = bitsFixAlloc(log)
        // A freed bitmap first (its free list), else the cache's own block (CacheMetadata.swift) if it is small.
        guard let c, fa.pointee.list == nil, fa.pointee.size <= maxCarvedBitmapBytes else {
            return fa.pointee.alloc()?.assumingMemoryBound(to: UInt64.self)
        }
        guard let p = carveMetaLocked(c, fa.pointee.size) else { return nil }
        countCarvedLocked(&fa.pointee, fa.pointee.size)
        return p.assumingMemoryBound(to: UInt64.self)
    }

    /// Accounts `bytes` carved from a cache's metadata block to the FixAlloc whose objects they stand for (its
    /// free list takes them back like its own; its `sys`, which sizes its own chunks, stays what it mapped).
    private func countCarvedLocked(_ fa: inout FixAlloc, _ bytes: Int) {
        fa.inuse += bytes
        fa.carved += bytes
    }

    private func freeBitsLocked(_ p: UnsafeMutablePointer<UInt64>, _ log: Int, of s: UnsafeMutablePointer<MSpan>) {
        if log <= MSpan.inlineBitsLog { return }
        bitsFixAlloc(log).pointee.free(UnsafeMutableRawPointer(p))
    }

    /// bitsAlloc's entry for bitmaps of 2^log words (log < 8).
    func bitsFixAlloc(_ log: Int) -> UnsafeMutablePointer<FixAlloc> {
        UnsafeMutableRawPointer(pointer(to: \.bitsAlloc)!).assumingMemoryBound(to: FixAlloc.self) + log
    }

    func setSpansLocked(_ base: UInt, _ npages: Int, _ s: UnsafeMutablePointer<MSpan>?) {
        var p = base
        for _ in 0..<npages {
            let a = pointee.index.arena(of: p)!
            a.setSpan(a.pageIndex(p), s)
            p += UInt(pageSize)
        }
    }

    // ---- page allocator (all under lock) -------------------------------------------------------------

    /// Calls body(arena, firstPage, count) for each arena piece of the page range [base, base + npages pages).
    func forEachArenaPiece(_ base: UInt, _ npages: Int, _ body: (UnsafeMutablePointer<HeapArena>, Int, Int) -> Void) {
        var p = base
        var left = npages
        while left > 0 {
            let a = pointee.index.arena(of: p)!
            let first = a.pageIndex(p)
            let n = min(left, pagesPerArena - first)
            body(a, first, n)
            left -= n
            p += UInt(n << pageShift)
        }
    }

    func pageAllocLocked(_ npages: Int, _ alignPages: Int) -> UInt {
        if npages <= pagesPerArena && alignPages <= pagesPerArena {
            for i in 0..<pointee.arenaCount {
                let a = pointee.arenas[i]
                if a.pointee.maxRun < npages { continue }
                if let first = PageBitmap.findRun(a.pageBits(.free), npages, align: min(alignPages, pagesPerArena),
                                                  fromPage: a.pointee.searchStart) {
                    return a.pointee.base + UInt(first << pageShift)
                }
                // The bound promised more than the arena has: make it exact (only now, not on every change).
                if alignPages <= 1 { a.pointee.maxRun = PageBitmap.longestRun(a.pageBits(.free)) }
            }
            return 0
        }
        // Larger than an arena, or aligned beyond one: whole free arenas, adjacent in memory, the first one
        // aligned to `alignPages` pages.
        let need = (npages + pagesPerArena - 1) / pagesPerArena
        let alignMask = UInt(alignPages << pageShift) - 1
        var runStart = 0, runLen = 0
        for i in 0..<pointee.arenaCount {
            let a = pointee.arenas[i]
            let adjacent = runLen > 0 && pointee.arenas[i - 1].pointee.base + UInt(heapArenaBytes) == a.pointee.base
            if a.pointee.freePages == pagesPerArena && (adjacent || a.pointee.base & alignMask == 0) {
                if !adjacent { runStart = i; runLen = 0 }
                runLen += 1
                if runLen == need { return pointee.arenas[runStart].pointee.base }
            } else {
                runLen = 0
            }
        }
        return 0
    }

    /// Whether any page of the range may hold old data.
    func needZeroLocked(_ base: UInt, _ npages: Int) -> Bool {
        var dirty = false
        forEachArenaPiece(base, npages) { a, first, n in
            if PageBitmap.count(a.pageBits(.zeroed), first, n) != n { dirty = true }
        }
        return dirty
    }

    /// Marks pages in use. Returns how many of them were released (not resident).
    @discardableResult
    func markPagesAllocatedLocked(_ base: UInt, _ npages: Int) -> Int {
        var total = 0
        forEachArenaPiece(base, npages) { a, first, n in
            let released = PageBitmap.count(a.pageBits(.scavenged), first, n)
            total += released
            a.pointee.scavengedPages -= released
            pointee.stats.releasedPages -= released
            PageBitmap.clear(a.pageBits(.free), first, n)
            PageBitmap.clear(a.pageBits(.scavenged), first, n)
            PageBitmap.clear(a.pageBits(.zeroed), first, n)
            PageBitmap.clear(a.pageBits(.oldFree), first, n)
            a.pointee.freePages -= n
            // maxRun stays an upper bound. searchStart: if it fell inside the range, nothing below the range's
            // end is free now.
            if a.pointee.searchStart >= first && a.pointee.searchStart < first + n { a.pointee.searchStart = first + n }
        }
        return total
    }

    func pageFreeLocked(_ base: UInt, _ npages: Int) {
        forEachArenaPiece(base, npages) { a, first, n in
            PageBitmap.set(a.pageBits(.free), first, n)
            a.pointee.freePages += n
            a.pointee.maxRun = max(a.pointee.maxRun, PageBitmap.runContaining(a.pageBits(.free), first, n))
            a.pointee.searchStart = min(a.pointee.searchStart, first)
        }
    }

    /// Go: mheap.grow. Adds whole arenas, enough for `npages`, the first aligned to `alignPages` pages when that
    /// is more than an arena. False when the OS refuses memory.
    func growLocked(_ npages: Int, _ alignPages: Int = 1) -> Bool {
        let narenas = max(1, (npages + pagesPerArena - 1) / pagesPerArena)
        let bytes = narenas * heapArenaBytes
        guard let mem = reserveArenas(bytes, align: max(heapArenaBytes, alignPages << pageShift)) else { return false }
        // On failure, the arenas not yet registered go back to the OS (under `ulimit -v` the metadata map can fail
        // after the reservation succeeded; keeping the reservation would leave even less address space).
        func giveBack(from i: Int) { sysFree(mem + i * heapArenaBytes, (narenas - i) * heapArenaBytes) }
        for i in 0..<narenas {
            guard let metaRaw = sysMap(HeapArena.mappedBytes) else { giveBack(from: i); return false }
            guard pointee.arenaCount < pointee.arenaCapacity else {
                sysFree(metaRaw, HeapArena.mappedBytes)
                giveBack(from: i)
                return false
            }
            let a = metaRaw.bindMemory(to: HeapArena.self, capacity: 1)
            a.initialize(to: HeapArena())
            a.pointee.base = UInt(bitPattern: mem) + UInt(i * heapArenaBytes)
            PageBitmap.set(a.pageBits(.free), 0, pagesPerArena)
            PageBitmap.set(a.pageBits(.scavenged), 0, pagesPerArena)
            PageBitmap.set(a.pageBits(.zeroed), 0, pagesPerArena)
            guard pointee.index.insert(a) else {
                sysFree(metaRaw, HeapArena.mappedBytes)
                giveBack(from: i)
                return false
            }
            // Keep `arenas` sorted by address (first fit prefers low arenas).
            var j = pointee.arenaCount
            while j > 0 && pointee.arenas[j - 1].pointee.base > a.pointee.base {
                pointee.arenas[j] = pointee.arenas[j - 1]
                j -= 1
            }
            pointee.arenas[j] = a
            pointee.arenaCount += 1
            pointee.metaSys += HeapArena.mappedBytes
            pointee.stats.sysBytes += UInt64(heapArenaBytes)
            pointee.stats.releasedPages += pagesPerArena
        }
        return true
    }

    /// Maps `bytes` (a multiple of the arena size) at an address aligned to `alignBytes` (a power of two, at
    /// least the arena size).
    private func reserveArenas(_ bytes: Int, align alignBytes: Int) -> UnsafeMutableRawPointer? {
        let align = UInt(alignBytes)
        if let p = sysMap(bytes, hint: UnsafeMutableRawPointer(bitPattern: pointee.arenaHint)) {
            if UInt(bitPattern: p) & (align - 1) == 0 {
                pointee.arenaHint = UInt(bitPattern: p) + UInt(bytes)
                if pointee.config.hugePages { sysHugePage(p, bytes) }
                return p
            }
            sysFree(p, bytes)
        }
        // The hint was taken: over-map and trim to alignment.
        guard let p = sysMap(bytes + alignBytes) else { return nil }
        let start = (UInt(bitPattern: p) + align - 1) & ~(align - 1)
        let head = Int(start - UInt(bitPattern: p))
        if head > 0 { sysFree(p, head) }
        let tail = alignBytes - head
        if tail > 0 { sysFree(UnsafeMutableRawPointer(bitPattern: start + UInt(bytes))!, tail) }
        pointee.arenaHint = start + UInt(bytes)
        let r = UnsafeMutableRawPointer(bitPattern: start)!
        if pointee.config.hugePages { sysHugePage(r, bytes) }
        return r
    }

    // ---- caches ------------------------------------------------------------------------------------------

    /// Go: allocmcache. A new MCache, registered in the heap's cache list. nil if out of memory.
    func allocCache() -> UnsafeMutablePointer<MCache>? {
        pointee.lock.lock()
        defer { pointee.lock.unlock() }
        guard let raw = pointee.cachealloc.alloc() else { return nil }
        precondition(MemoryLayout<MCache>.size <= MCache.headerBytes, "MCache fields must fit its header")
        let c = raw.bindMemory(to: MCache.self, capacity: 1)
        c.initialize(to: MCache(heap: self))
        for i in 0..<numSpanClasses { c.allocSlot(i).pointee = pointee.emptySpan }
        adoptMetaRemainderLocked(c)
        c.pointee.nextCache = pointee.caches
        if let first = pointee.caches { first.pointee.prevCache = c }
        pointee.caches = c
        return c
    }

    /// Go: freemcache. Flushes the cache (every span goes back to its MCentral) and recycles its memory.
    func freeCache(_ c: UnsafeMutablePointer<MCache>) {
        c.releaseAll()
        pointee.lock.lock()
        for i in 0..<numSizeClasses {
            gort_fetch_add_relaxed(pointee.classCounts + 2 * i + 1, c.frees(ofClass: i))
        }
        pointee.stats.tinyAllocs += c.pointee.tinyAllocs
        if let p = c.pointee.prevCache { p.pointee.nextCache = c.pointee.nextCache } else { pointee.caches = c.pointee.nextCache }
        if let n = c.pointee.nextCache { n.pointee.prevCache = c.pointee.prevCache }
        releaseMetaRemainderLocked(c)
        pointee.cachealloc.free(UnsafeMutableRawPointer(c))
        pointee.lock.unlock()
    }
}

extension UnsafeMutablePointer where Pointee == MHeap {
    /// MHeap.lock and a young cache's lock, taken and released in this module for code that holds only the heap's pointer
    /// (tests). A module built with exclusivity checks (the tests) marks `h.pointee.lock.lock()` as a modifying
    /// access of the whole MHeap, and Thread Sanitizer then reports it against the background thread's atomics on
    /// the lock word: a false race. GoAlloc is built without those checks, so the same call here is only atomics.
    func lockHeap() { pointee.lock.lock() }
    func unlockHeap() { pointee.lock.unlock() }
    func lockYoung(_ i: Int) { youngCache(i).pointee.lock.lock() }
    func unlockYoung(_ i: Int) { youngCache(i).pointee.lock.unlock() }

    /// Young cache `i` (0..<youngCacheCount).
    @inline(__always)
    func youngCache(_ i: Int) -> UnsafeMutablePointer<YoungCache> {
        // The tuple's address: `pointee` is memory at a fixed place (the heap's mapping), so the pointer stays valid.
        withUnsafeMutablePointer(to: &pointee.young) { UnsafeMutableRawPointer($0) }.assumingMemoryBound(to: YoungCache.self) + i
    }
}
