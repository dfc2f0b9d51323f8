// A free-list allocator for fixed-size runtime metadata. Go: fixalloc (mfixalloc.go).
//
// MSpans, MCaches, span bitmaps and heap bookkeeping come from here, never from the Swift heap or malloc, so the
// allocator never calls itself. Memory comes from the OS in chunks and is returned only when the whole heap is
// destroyed (HeapTeardown.swift): freed objects go on a free list threaded through their first word and are
// reused. Each chunk's first cache line links it to the previous chunk (its address and size), so the teardown
// can find them all; objects start after it (still 64-byte aligned), on the page the first object touches
// anyway, so the link costs no page of its own.

/// Go: fixalloc. Not thread-safe: every FixAlloc is guarded by its owner's lock (MHeap.lock for all in MHeap).
struct FixAlloc {
    /// Object size in bytes (at least one word, a multiple of 16).
    var size: Int = 0
    /// Free list, linked through each free object's first word.
    var list: UnsafeMutableRawPointer? = nil
    /// Current chunk and the bytes still unused in it.
    var chunk: UnsafeMutableRawPointer? = nil
    var nchunk: Int = 0
    /// The newest chunk mapped and its size: the head of the chunk list (see the file comment).
    var lastChunk: UnsafeMutableRawPointer? = nil
    var lastChunkBytes: Int = 0
    /// Bytes handed out and not freed; bytes obtained from the OS.
    var inuse: Int = 0
    var sys: Int = 0
    /// Bytes of objects carved for it from per-cache metadata blocks (CacheMetadata.swift): in `inuse` (and
    /// freed to `list` like its own), mapped by MHeap.metaBlocks, not by this FixAlloc.
    var carved: Int = 0

    /// Chunks double with what this FixAlloc has mapped, from chunkBytes up to maxChunkBytes. A heap that grows
    /// fast needs span records fast (a million small spans: 20 MB of them), and every mmap takes the process's
    /// mmap lock for writing, so it waits for any page population in progress (Prefault.swift): 64 KiB chunks
    /// meant 300 such waits in spawn-join. Pages of a chunk not yet handed out are never touched, so a large
    /// chunk costs address space, not memory; at most 1 MiB, so that no chunk can hold an aligned 2 MiB range
    /// that transparent huge pages set to "always" would back with a whole huge page at the first touch.
    static let chunkBytes = 64 << 10
    static let maxChunkBytes = 1 << 20

    init(size: Int) {
        self.size = (max(size, 16) + 15) & ~15
    }

    /// A zeroed object, or nil when the OS refuses memory.
    mutating func alloc() -> UnsafeMutableRawPointer? {
        if let p = list {
            list = p.load(as: UnsafeMutableRawPointer?.self)
            inuse += size
            p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            return p
        }
        if nchunk < size {
            let n = max(min(max(FixAlloc.chunkBytes, sys), FixAlloc.maxChunkBytes), size + FixAlloc.linkBytes)
            guard let c = sysMap(n) else { return nil }
            c.storeBytes(of: lastChunk, as: UnsafeMutableRawPointer?.self)
            c.storeBytes(of: lastChunkBytes, toByteOffset: 8, as: Int.self)
            lastChunk = c
            lastChunkBytes = n
            chunk = c + FixAlloc.linkBytes
            nchunk = n - FixAlloc.linkBytes
            sys += n
        }
        let p = chunk!
        chunk = p + size
        nchunk -= size
        inuse += size
        return p  // fresh mmap memory is zero
    }

    /// The link at the start of each chunk (the previous chunk's address and size), padded to a cache line.
    static let linkBytes = 64

    /// Unmaps every chunk (HeapTeardown.swift); every object this FixAlloc handed out is gone after.
    mutating func unmapAll() {
        var c = lastChunk, n = lastChunkBytes
        while let base = c {
            let prev = base.load(as: UnsafeMutableRawPointer?.self)
            let prevBytes = base.load(fromByteOffset: 8, as: Int.self)
            sysFree(base, n)
            c = prev
            n = prevBytes
        }
        self = FixAlloc(size: size)
    }

    mutating func free(_ p: UnsafeMutableRawPointer) {
        p.storeBytes(of: list, as: UnsafeMutableRawPointer?.self)
        list = p
        inuse -= size
    }
}
