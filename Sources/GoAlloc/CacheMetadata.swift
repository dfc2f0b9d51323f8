// Span metadata by cache: each MCache carves the records (MSpan) and out-of-line bitmaps of the spans it grows
// from 4 KiB blocks of its own. Not in Go (Go's spanalloc and gcBits arenas are shared by all Ps).
//
// Why: the holder of a span writes its record and bitmaps on every malloc and free. With one shared FixAlloc,
// the spans two threads grow at the same time get records side by side in one page, and although no cache line
// is shared (records and bitmaps are whole lines), the CPU's prefetchers fetch neighbouring lines of the same
// page: each thread keeps pulling lines the other is writing. In `threads 2` (two threads, private working sets)
// that made each thread 21 % slower than alone (27 % in a copy that never touches its blocks; with one record per
// page, an experiment, 4.5 %). Giving each cache its own 4 KiB blocks keeps a thread's metadata in pages no other
// thread writes, at the cost of at most one partly used block per cache: 1.055x (BENCHMARKS.md, session 8).
// Spans grown without a cache (large objects, MHeap.create's empty span) keep using the shared FixAllocs, and
// so do bitmaps over maxCarvedBitmapBytes. Spans that move between caches (through MCentral) and reused records
// blur the separation over a long run; the common case, a thread filling and keeping its own spans, keeps it.
//
// Reuse comes first: a dead span's record (MHeap.deadSpans) and a freed bitmap (MHeap.bitsAlloc's lists) are
// taken before anything is carved, so metadata never grows past its peak. A freed cache's unused remainder goes
// on MHeap.metaSpare for the next new cache. Everything here runs under MHeap.lock.

/// An unused remainder of a metadata block, linked through its first two words (MHeap.metaSpare).
struct MetaRemainder {
    var next: UnsafeMutablePointer<MetaRemainder>?
    var bytes: Int
}

/// Per-cache metadata blocks. Bytes per block: a page, the prefetchers' range.
let metaBlockBytes = 4096
/// Bitmaps larger than this (the 1 and 2 KiB pairs of garbage-collected heaps' 8-page spans) stay in the
/// shared bitsAlloc: carved, they would leave most of a block's remainder unusable.
let maxCarvedBitmapBytes = 512

extension UnsafeMutablePointer where Pointee == MHeap {
    /// `bytes` (a multiple of 64, at most maxCarvedBitmapBytes or a record) of zeroed memory from cache `c`'s
    /// current block, starting a new block when the current one is too small (its remainder, under 512 bytes,
    /// is dropped).
    /// nil when the OS refuses memory. MHeap.lock held.
    func carveMetaLocked(_ c: UnsafeMutablePointer<MCache>, _ bytes: Int) -> UnsafeMutableRawPointer? {
        precondition(bytes <= maxCarvedBitmapBytes, "carveMetaLocked: object too big")  // records: 192
        if c.pointee.metaLeft < bytes {
            guard let b = pointee.metaBlocks.alloc() else { return nil }
            pointee.metaDropped += c.pointee.metaLeft
            c.pointee.metaNext = b
            c.pointee.metaLeft = metaBlockBytes
        }
        let p = c.pointee.metaNext!
        c.pointee.metaNext = p + bytes
        c.pointee.metaLeft -= bytes
        return p  // fresh FixAlloc memory (never handed out before) is zero
    }

    /// Bytes of metadata blocks not carved and not dropped: the caches' current remainders and the spares.
    /// With metaCarved and metaDropped they add up to metaBlocks.inuse (Invariants.swift). MHeap.lock held.
    func metaUncarvedLocked() -> Int {
        var n = 0
        var c = pointee.caches
        while let x = c { n += x.pointee.metaLeft; c = x.pointee.nextCache }
        var r = pointee.metaSpare
        while let x = r { n += x.pointee.bytes; r = x.pointee.next }
        return n
    }

    /// A new cache takes a remainder a freed cache left, if any. MHeap.lock held.
    func adoptMetaRemainderLocked(_ c: UnsafeMutablePointer<MCache>) {
        guard let r = pointee.metaSpare else { return }
        pointee.metaSpare = r.pointee.next
        let bytes = r.pointee.bytes
        // Carved memory must be zero: clear the two link words.
        UnsafeMutableRawPointer(r).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<MetaRemainder>.size)
        c.pointee.metaNext = UnsafeMutableRawPointer(r)
        c.pointee.metaLeft = bytes
    }

    /// A cache being freed leaves its unused remainder for the next new cache. MHeap.lock held.
    func releaseMetaRemainderLocked(_ c: UnsafeMutablePointer<MCache>) {
        guard let p = c.pointee.metaNext, c.pointee.metaLeft >= 64 else {
            pointee.metaDropped += c.pointee.metaLeft
            return
        }
        let r = p.bindMemory(to: MetaRemainder.self, capacity: 1)
        r.initialize(to: MetaRemainder(next: pointee.metaSpare, bytes: c.pointee.metaLeft))
        pointee.metaSpare = r
        c.pointee.metaNext = nil
        c.pointee.metaLeft = 0
    }
}
