// Heap dump: every arena and every in-use span, as JSON. Go keeps mheap.allspans so the heap can be dumped
// (runtime/debug.WriteHeapDump); ours is a JSON document that `gort heapmap` draws.
//
// Schema:
// { "pageSize": 8192, "arenaBytes": 67108864,
//   "arenas": [ { "base": A, "freePages": N, "releasedPages": N } ],
//   "spans":  [ { "base": A, "npages": N, "class": C, "elemsize": B, "nelems": N, "inuse": N,
//                 "state": "cached" | "partial" | "full" | "large" } ],
//   "stats": { MemStats fields } }
// Written under MHeap.lock (spans cannot appear or vanish meanwhile); object counts in spans that caches hold
// are read with relaxed loads and may be a moment old. Never allocates.
import CGoRuntime

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Writes the heap dump to `out`.
    public func writeHeapDump(_ out: inout ByteSink) {
        out.write("{\"pageSize\": ")
        out.write(pageSize)
        out.write(", \"arenaBytes\": ")
        out.write(heapArenaBytes)
        out.write(",\n\"arenas\": [")
        pointee.lock.lock()
        for i in 0..<pointee.arenaCount {
            let a = pointee.arenas[i]
            out.write(i == 0 ? "\n" : ",\n")
            out.write("{")
            out.field("base", UInt64(a.pointee.base), first: true)
            out.field("freePages", UInt64(a.pointee.freePages))
            out.field("releasedPages", UInt64(a.pointee.scavengedPages))
            out.write("}")
        }
        out.write("],\n\"spans\": [")
        var first = true
        for i in 0..<pointee.allspansCount {
            let s = pointee.allspans[i]
            if s.pointee.state != MSpanState.inUse.rawValue { continue }
            out.write(first ? "\n" : ",\n")
            first = false
            out.write("{")
            out.field("base", UInt64(s.pointee.startAddr), first: true)
            out.field("npages", UInt64(s.pointee.npages))
            out.field("class", UInt64(s.pointee.spanclass.sizeclass))
            out.field("elemsize", UInt64(s.pointee.elemsize))
            out.field("nelems", UInt64(s.pointee.nelems))
            // Remote frees not yet swept are free (the sum over spans then matches MemStats' HeapObjects).
            out.field("inuse", s.liveCountLessPendingFrees)
            out.write(", \"state\": ")
            if s.pointee.spanclass.sizeclass == 0 { out.write("\"large\"") }
            else if gort_load_relaxed(&s.pointee.owner) != 0 { out.write("\"cached\"") }
            else if gort_load8_relaxed(&s.pointee.inFull) != 0 { out.write("\"full\"") }
            else { out.write("\"partial\"") }
            out.write("}")
        }
        pointee.lock.unlock()
        out.write("],\n\"stats\": ")
        writeMemStatsJSON(&out)
        out.write("}\n")
    }

    /// The heap dump as a String (Swift callers; allocates).
    public func heapDumpJSON() -> String {
        var sink = ByteSink()
        writeHeapDump(&sink)
        let s = sink.string()
        sink.close()
        return s
    }
}
