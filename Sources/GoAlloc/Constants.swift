// Sizes that shape the heap. Go: runtime/malloc.go (Linux, 64-bit).

/// Go: _PageShift. Heap pages are 8 KiB, as in Go; spans are whole pages.
public let pageShift = 13
/// Go: _PageSize.
public let pageSize = 1 << pageShift
/// Go: heapArenaBytes. Arenas are reserved 64 MiB at a time, 64 MiB-aligned.
public let logHeapArenaBytes = 26
public let heapArenaBytes = 1 << logHeapArenaBytes
/// Go: pagesPerArena (8192).
public let pagesPerArena = heapArenaBytes / pageSize
/// Words (bitmaps) describing one arena's pages.
let pageWordsPerArena = pagesPerArena / 64
/// Go: heapAddrBits. User addresses on x86_64 and arm64 Linux fit in 48 bits.
public let heapAddrBits = 48
/// Go: arenaL1Bits / arenaL2Bits. The index is two-level (`arenas[L1][L2]`); like Go on 64-bit Linux, L1 has a
/// single entry, so its one L2 table (4M entries, 32 MiB of MAP_NORESERVE address space; only the pages that
/// hold entries for arenas in use are ever touched) is mapped with the heap and free's fast path reaches an arena
/// with one bounds check and one load. A larger arenaL1Bits maps each L2 table on first use instead.
public let arenaL1Bits = 0
public let arenaL2Bits = heapAddrBits - logHeapArenaBytes - arenaL1Bits
/// Go: heapArenaBitmapWords. One bit per heap word (the GC's pointer/scalar bitmap): 1 MiB per arena.
public let heapArenaBitmapWords = heapArenaBytes / 8 / 64
/// Go: _MaxSmallSize. Larger objects get their own span.
public let maxSmallSize = 32768
/// Go: _TinySize. The tiny allocator packs noscan objects below this into one block.
public let tinySize = 16
/// Go: _NumSizeClasses (including class 0, the large-object class).
public let numSizeClasses = 68
/// Go: numSpanClasses = _NumSizeClasses << 1 (a scan and a noscan class per size class).
public let numSpanClasses = numSizeClasses << 1
/// Go: cpu.CacheLinePadSize on x86_64.
public let cacheLineSize = 64
/// Go: smallSizeDiv, smallSizeMax, largeSizeDiv (size -> class lookup tables).
let smallSizeDiv = 8
let smallSizeMax = 1024
let largeSizeDiv = 128
