// Heap statistics. Go: runtime.MemStats (mstats.go).
//
// Counting is split so no fast path pays for an atomic, and malloc's pays nothing: a span counts the frees its
// holder makes into it (MSpan.localFrees: one `inc` on free's fast path), each MCache counts its remote frees per
// size class (both owner-written, relaxed); freed spans, dead caches, cache-less frees and GC sweeps fold into
// MHeap.classCounts (atomic adds); page and large-object figures are kept under MHeap.lock. Small mallocs are
// not counted one by one (Go counts them per span at refill; explicit free makes that inexact here): a class's
// mallocs are its frees plus its live objects, and the live objects are read from the spans at read time (each
// in-use span's allocCount, less the remote frees still waiting in its freeBits). readMemStats sums everything
// under the lock. Identities (asserted by tests): HeapSys == HeapInuse + HeapIdle; HeapObjects == Mallocs -
// Frees; HeapReleased <= HeapIdle. Exact when no other thread allocates or frees during the read (the
// background sweeper included); otherwise Mallocs may be off by the few objects in flight, as Go's figures are
// between its stop-the-world reads.
import CGoRuntime

/// Page and large-object counters (MHeap.lock).
struct HeapStats {
    var sysBytes: UInt64 = 0
    var inusePages = 0
    var releasedPages = 0
    var spansInUse = 0
    var largeAllocs: UInt64 = 0
    var largeFrees: UInt64 = 0
    var largeAllocBytes: UInt64 = 0
    var largeFreeBytes: UInt64 = 0
    var tinyAllocs: UInt64 = 0
}

/// Go: runtime.MemStats, the allocator's part (the GC adds its fields).
public struct MemStats: Sendable, Equatable {
    /// Go: MemStats.BySize entry.
    public struct SizeClassStats: Sendable, Equatable {
        public var size: UInt64
        public var mallocs: UInt64
        public var frees: UInt64
    }
    /// Bytes of allocated heap objects (Go: HeapAlloc, also Alloc).
    public var heapAlloc: UInt64 = 0
    /// Cumulative bytes allocated (Go: TotalAlloc).
    public var totalAlloc: UInt64 = 0
    /// Bytes of heap memory obtained from the OS: all arenas (Go: HeapSys).
    public var heapSys: UInt64 = 0
    /// Bytes in spans with no objects (free pages), released or not (Go: HeapIdle).
    public var heapIdle: UInt64 = 0
    /// Bytes in in-use spans (Go: HeapInuse).
    public var heapInuse: UInt64 = 0
    /// Bytes of idle pages returned to the OS (Go: HeapReleased).
    public var heapReleased: UInt64 = 0
    /// Live objects (Go: HeapObjects).
    public var heapObjects: UInt64 = 0
    /// Cumulative objects allocated and freed (Go: Mallocs, Frees; tiny allocations count in both, as in Go).
    public var mallocs: UInt64 = 0
    public var frees: UInt64 = 0
    /// Tiny-allocator objects (Go: tinyAllocs, folded into Mallocs and Frees).
    public var tinyAllocs: UInt64 = 0
    /// Large objects (> 32 KiB) allocated and freed.
    public var largeAllocs: UInt64 = 0
    public var largeFrees: UInt64 = 0
    /// MSpan structures in use and bytes obtained for them (Go: MSpanInuse, MSpanSys).
    public var mspanInuse: UInt64 = 0
    public var mspanSys: UInt64 = 0
    /// MCache structures (Go: MCacheInuse, MCacheSys).
    public var mcacheInuse: UInt64 = 0
    public var mcacheSys: UInt64 = 0
    /// Other metadata: arena headers and bitmaps, arena index, centrals, span bitmaps (Go: OtherSys + GCSys).
    public var otherSys: UInt64 = 0
    /// Total bytes from the OS (Go: Sys).
    public var sys: UInt64 = 0
    /// Spans in use; arenas mapped; live MCaches.
    public var spansInUse: UInt64 = 0
    public var arenas: UInt64 = 0
    public var caches: UInt64 = 0
    /// Per size class, classes 1...67 (Go: BySize).
    public var bySize: [SizeClassStats] = []

    public init() {}
}

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Calls body(sizeclass, mallocs, frees) for each size class: frees summed from the flushed and live cache
    /// counts, mallocs = frees + live objects of the class. Caller holds MHeap.lock (which also keeps allspans
    /// and the span states still; the spans' allocCount and freeBits are read with relaxed loads).
    func forEachClassCountLocked(_ body: (Int, UInt64, UInt64) -> Void) {
        // Live objects per class into classCounts' even words, and the spans' local frees (MSpan.localFrees) into
        // its third block (both scratch, under the lock).
        let localFrees = pointee.classCounts + 2 * numSizeClasses
        for sc in 1..<numSizeClasses { pointee.classCounts[2 * sc] = 0; localFrees[sc] = 0 }
        for i in 0..<pointee.allspansCount {
            let s = pointee.allspans[i]
            let sc = s.pointee.spanclass.sizeclass
            if s.pointee.state != MSpanState.inUse.rawValue || sc == 0 || s == pointee.emptySpan { continue }
            pointee.classCounts[2 * sc] &+= s.liveCountLessPendingFrees
            localFrees[sc] &+= gort_load_relaxed(&s.pointee.localFrees)
        }
        for sc in 1..<numSizeClasses {
            var f = gort_load_relaxed(pointee.classCounts + 2 * sc + 1) &+ localFrees[sc]
            var c = pointee.caches
            while let x = c {
                f &+= x.frees(ofClass: sc)
                c = x.pointee.nextCache
            }
            body(sc, f &+ pointee.classCounts[2 * sc], f)
        }
    }

    /// Fills everything but bySize. Never allocates. `perClass` sees each class's counts.
    func readMemStatsNoAlloc(_ perClass: (Int, UInt64, UInt64) -> Void = { _, _, _ in }) -> MemStats {
        var ms = MemStats()
        pointee.lock.lock()
        defer { pointee.lock.unlock() }
        let st = pointee.stats
        var tiny = st.tinyAllocs
        var ncaches: UInt64 = 0
        var c = pointee.caches
        while let x = c { tiny &+= x.pointee.tinyAllocs; ncaches += 1; c = x.pointee.nextCache }
        forEachClassCountLocked { sc, m, f in
            let size = UInt64(sizeClassSize(sc))
            ms.mallocs &+= m
            ms.frees &+= f
            ms.heapAlloc &+= (m &- f) &* size
            ms.totalAlloc &+= m &* size
            perClass(sc, m, f)
        }
        ms.largeAllocs = st.largeAllocs
        ms.largeFrees = st.largeFrees
        ms.mallocs &+= st.largeAllocs &+ tiny
        ms.frees &+= st.largeFrees &+ tiny
        ms.tinyAllocs = tiny
        ms.heapAlloc &+= st.largeAllocBytes &- st.largeFreeBytes
        ms.totalAlloc &+= st.largeAllocBytes
        ms.heapObjects = ms.mallocs &- ms.frees
        ms.heapSys = st.sysBytes
        ms.heapInuse = UInt64(st.inusePages * pageSize)
        ms.heapIdle = ms.heapSys - ms.heapInuse
        ms.heapReleased = UInt64(st.releasedPages * pageSize)
        ms.spansInUse = UInt64(st.spansInUse)
        ms.mspanInuse = UInt64(pointee.spanalloc.inuse)
        ms.mspanSys = UInt64(pointee.spanalloc.sys + pointee.spanalloc.carved)
        ms.mcacheInuse = UInt64(pointee.cachealloc.inuse)
        ms.mcacheSys = UInt64(pointee.cachealloc.sys)
        var bits = 0
        for i in 0..<8 { bits += bitsFixAlloc(i).pointee.sys + bitsFixAlloc(i).pointee.carved }
        // Carved bytes are in mspanSys and `bits` (each FixAlloc's `carved`); the rest of the blocks is other
        // metadata.
        ms.otherSys = UInt64(pointee.metaSys + bits + pointee.metaBlocks.sys - pointee.metaCarved)
        ms.sys = ms.heapSys + ms.mspanSys + ms.mcacheSys + ms.otherSys
        ms.arenas = UInt64(pointee.arenaCount)
        ms.caches = ncaches
        return ms
    }

    /// Go: runtime.ReadMemStats. Cheap: no stop-the-world; a walk over the live caches under MHeap.lock.
    public func readMemStats() -> MemStats {
        var rows = [MemStats.SizeClassStats](repeating: .init(size: 0, mallocs: 0, frees: 0), count: numSizeClasses - 1)
        var ms = readMemStatsNoAlloc { sc, m, f in
            rows[sc - 1] = .init(size: UInt64(sizeClassSize(sc)), mallocs: m, frees: f)
        }
        ms.bySize = rows
        return ms
    }

    /// Writes MemStats as JSON (Go's field names) without allocating.
    public func writeMemStatsJSON(_ out: inout ByteSink) {
        let counts = sysMap(numSizeClasses * 16)?.assumingMemoryBound(to: UInt64.self)
        let ms = readMemStatsNoAlloc { sc, m, f in
            counts?[2 * sc] = m
            counts?[2 * sc + 1] = f
        }
        // Go's runtime.MemStats fields in its order (encoding/json of the struct), so a script written for Go's
        // JSON reads this: the GC's fields are zero (malloc has no collector), as are the stack and profiling
        // ones. Then GoAlloc's own. BySize[i] is size class i, from class 0 (size 0), as in Go.
        out.write("{")
        out.field("Alloc", ms.heapAlloc, first: true)
        out.field("TotalAlloc", ms.totalAlloc)
        out.field("Sys", ms.sys)
        out.field("Lookups", 0)
        out.field("Mallocs", ms.mallocs)
        out.field("Frees", ms.frees)
        out.field("HeapAlloc", ms.heapAlloc)
        out.field("HeapSys", ms.heapSys)
        out.field("HeapIdle", ms.heapIdle)
        out.field("HeapInuse", ms.heapInuse)
        out.field("HeapReleased", ms.heapReleased)
        out.field("HeapObjects", ms.heapObjects)
        out.field("StackInuse", 0)
        out.field("StackSys", 0)
        out.field("MSpanInuse", ms.mspanInuse)
        out.field("MSpanSys", ms.mspanSys)
        out.field("MCacheInuse", ms.mcacheInuse)
        out.field("MCacheSys", ms.mcacheSys)
        out.field("BuckHashSys", 0)
        out.field("GCSys", 0)
        out.field("OtherSys", ms.otherSys)
        out.field("NextGC", 0)
        out.field("LastGC", 0)
        out.field("PauseTotalNs", 0)
        for k in 0..<2 {
            out.write(k == 0 ? ", \"PauseNs\": [" : ", \"PauseEnd\": [")
            for i in 0..<256 { out.write(i == 0 ? "0" : ",0") }
            out.write("]")
        }
        out.field("NumGC", 0)
        out.field("NumForcedGC", 0)
        out.field("GCCPUFraction", 0)
        out.write(", \"EnableGC\": false, \"DebugGC\": false")
        out.field("TinyAllocs", ms.tinyAllocs)
        out.field("LargeAllocs", ms.largeAllocs)
        out.field("LargeFrees", ms.largeFrees)
        out.field("SpansInUse", ms.spansInUse)
        out.field("Arenas", ms.arenas)
        out.field("Caches", ms.caches)
        out.write(", \"BySize\": [{\"Size\": 0, \"Mallocs\": 0, \"Frees\": 0}")
        for sc in 1..<numSizeClasses {
            out.write(", {")
            out.field("Size", UInt64(sizeClassSize(sc)), first: true)
            out.field("Mallocs", counts?[2 * sc] ?? 0)
            out.field("Frees", counts?[2 * sc + 1] ?? 0)
            out.write("}")
        }
        out.write("]}\n")
        if let c = counts { sysFree(UnsafeMutableRawPointer(c), numSizeClasses * 16) }
    }
}

extension MemStats {
    /// One line per figure, like `go tool` summaries: name, bytes and MiB.
    public var text: String {
        func mib(_ x: UInt64) -> String {
            let h = x * 100 / (1 << 20)
            return "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100) MiB"
        }
        var s = ""
        s += "HeapAlloc    \(heapAlloc) (\(mib(heapAlloc)))\n"
        s += "TotalAlloc   \(totalAlloc) (\(mib(totalAlloc)))\n"
        s += "HeapSys      \(heapSys) (\(mib(heapSys)))\n"
        s += "HeapInuse    \(heapInuse) (\(mib(heapInuse)))\n"
        s += "HeapIdle     \(heapIdle) (\(mib(heapIdle)))\n"
        s += "HeapReleased \(heapReleased) (\(mib(heapReleased)))\n"
        s += "HeapObjects  \(heapObjects)\n"
        s += "Mallocs      \(mallocs)\n"
        s += "Frees        \(frees)\n"
        s += "LargeAllocs  \(largeAllocs)\n"
        s += "Sys          \(sys) (\(mib(sys)))  [spans \(mspanSys), caches \(mcacheSys), other \(otherSys)]\n"
        s += "Arenas \(arenas), spans in use \(spansInUse), caches \(caches)\n"
        let busy = bySize.filter { $0.mallocs > 0 }
        if !busy.isEmpty {
            s += "BySize (size: mallocs frees live)\n"
            for r in busy { s += "  \(r.size): \(r.mallocs) \(r.frees) \(r.mallocs - r.frees)\n" }
        }
        return s
    }
}
