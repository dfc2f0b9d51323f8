// The collector's shared state, in raw memory reached by pointer from every mutator (no ARC on fast paths).
@_spi(GoGC) import GoAlloc
import CGoRuntime
import Synchronization

/// Go: gcphase. Written by the coordinator with the world stopped; read by anyone (relaxed loads; a
/// mutator that resumes after a stop sees the new value through the stop's acquire).
enum GCPhase: UInt64 {
    case off = 0
    case mark = 1
    case markTermination = 2
}

/// Per-arena collector metadata, one mapping per heap arena, made on first allocation in that arena.
/// Layout: marks | checkmarks (each one bit per 16-byte granule of the arena: 512 KiB) | sweepgen per page |
/// object info per page.
///
/// Mark bits. Every object is at least 16 bytes (GCLayout rounds smaller ones up, as Boehm's 16-byte granule
/// does) and starts on a 16-byte boundary, so each object has a granule of its own: its mark is bit
/// (g & 63) of word (g >> 6) of the bitmap, g = (p >> 4) & granuleMask. A bit per granule is 1/128 of the
/// heap resident (the mark bytes this replaces were 1/16: 16 MiB of a 256 MiB heap, now 2 MiB). A marker
/// first loads the word (relaxed) and returns if the bit is set (most shades in a busy mark hit marked
/// objects); otherwise it sets the bit with an atomic OR whose old value says whether this marker set it,
/// so exactly one marker grays each object.
/// Spans are page-aligned, and a page is 512 granules, 8 mark words: a mark word never covers two spans,
/// so a span's holder may clear (sweep) or bulk-set (black allocation of a reserved allocBits word) its
/// span's words without racing another span's sweep.
/// marks: set by markers, barriers and black allocation during mark (atomic OR, relaxed: the objects a
/// marker scans were published by the stop's handshake or by their allocation before mark start); read by
/// the sweeper after mark termination. One bitmap serves every cycle: the sweep of a span clears the span's
/// mark words (Go gives each swept span fresh zeroed gcmarkBits), and every span in use at mark termination
/// is swept before the next mark starts (sweep termination finishes the sweep with the world stopped, and no
/// sweep of a span straddles it: every sweeper is a running mutator or the coordinator before it posts the
/// next cycle). So only the marks of one cycle are ever set, and no bulk clearing is needed.
/// sweepgen[page]: the GC sweep generation of the span starting at that page, written by the span's holder.
/// info[page]: what markers need of the object at a page without finding its span (GCArena.info):
/// written for every page of a span by the mutator that takes the span from its cache (or allocates the
/// large object), before any of its objects can be reached; read by markers with relaxed loads.
struct GCArena {
    var marks: UnsafeMutablePointer<UInt64>
    /// The HeapArena's pointer bitmap (one bit per word, 1 = reference). Written by the holder of the span
    /// that covers the bits (allocation), relaxed stores; read by markers with relaxed loads.
    var ptrBits: UnsafeMutablePointer<UInt64>
    var heapArena: UnsafeMutablePointer<HeapArena>
    var sweepgen: UnsafeMutablePointer<UInt64>
    var info: UnsafeMutablePointer<UInt32>

    /// Heap words covered by the pointer bitmap (one bit each).
    static var bitmapWords: Int { @inline(__always) get { Geometry.heapArenaBytes / 8 / 64 } }
    static var wordMask: UInt { @inline(__always) get { UInt(Geometry.heapArenaBytes / 8 - 1) } }
    /// 16-byte granules per arena (one mark bit each).
    static var granules: Int { @inline(__always) get { Geometry.heapArenaBytes >> 4 } }
    static var granuleMask: UInt { @inline(__always) get { UInt(granules - 1) } }
    /// Words of one mark bitmap.
    static var markWords: Int { @inline(__always) get { granules >> 6 } }
    /// Mark words per heap page (a page's granules / 64).
    static var markWordsPerPage: Int { @inline(__always) get { (1 << Geometry.pageShift) >> 10 } }
    static var marksBytes: Int { 2 * markWords * 8 }
    /// Bitmap indexes (GCWork.bitmap): the cycle's marks and checkmark's.
    static var markBitmap: Int { @inline(__always) get { 0 } }
    static var checkmarkBitmap: Int { @inline(__always) get { 1 } }
    static var sweepgenBytes: Int { Geometry.pagesPerArena * 8 }
    static var infoBytes: Int { Geometry.pagesPerArena * 4 }
    /// One mapping per arena holds the marks, sweepgens and infos, in that order (ensureArena, GCTeardown).
    static var mappedBytes: Int { marksBytes + sweepgenBytes + infoBytes }

    /// An info word: the object size in words (bits 0...30; 0: no span was ever recorded at the page) and
    /// noscan (bit 31).
    static var infoNoscan: UInt32 { @inline(__always) get { 1 << 31 } }
    static var infoWords: UInt32 { @inline(__always) get { (1 << 31) - 1 } }
}

/// Relaxed atomic access to collector side tables. Plain moves on x86-64 (the OR and AND: `lock`ed
/// instructions); atomics so that racing markers are not data races under the Thread Sanitizer.
@inline(__always) func gcLoad64(_ p: UnsafeMutablePointer<UInt64>) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
}
@inline(__always) func gcStore64(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(v, ordering: .relaxed)
}
/// Atomic OR (relaxed); returns the old value.
@inline(__always) func gcOr64(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.bitwiseOr(v, ordering: .relaxed).oldValue
}
/// Atomic AND (relaxed); returns the old value.
@inline(__always) @discardableResult func gcAnd64(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.bitwiseAnd(v, ordering: .relaxed).oldValue
}
@inline(__always) func gcLoad32(_ p: UnsafeMutablePointer<UInt32>) -> UInt32 {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .relaxed)
}
@inline(__always) func gcStore32(_ p: UnsafeMutablePointer<UInt32>, _ v: UInt32) {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Atomic<UInt32>.self).pointee.store(v, ordering: .relaxed)
}

/// GoAlloc's heap geometry as literals. GoAlloc's `public let` constants are lazily initialized globals to
/// other modules, so every use from here would cost a `swift_once` check (seen at ~10% of a GC benchmark's
/// profile); these fold to immediates. `check()` (from GC.init) verifies they agree with GoAlloc.
enum Geometry {
    static var pageShift: Int { @inline(__always) get { 13 } }
    static var logHeapArenaBytes: Int { @inline(__always) get { 26 } }
    static var heapArenaBytes: Int { @inline(__always) get { 1 << logHeapArenaBytes } }
    static var pagesPerArena: Int { @inline(__always) get { 1 << (logHeapArenaBytes - pageShift) } }
    static var heapAddrBits: Int { @inline(__always) get { 48 } }

    static func check() {
        if pageShift != GoAlloc.pageShift || logHeapArenaBytes != GoAlloc.logHeapArenaBytes
            || pagesPerArena != GoAlloc.pagesPerArena || GCArena.bitmapWords != heapArenaBitmapWords
            || GCArena.marksBytes % 4096 != 0
            || heapAddrBits > Int(WorkBuf.sizeShift) || Geometry.heapAddrBits != GoAlloc.heapAddrBits {
            gcFatal("GoGC: Geometry disagrees with GoAlloc's constants")
        }
    }
}

/// Go: workbuf. A block of gray objects. Linked through `next` in the global full/empty lists (GCState.workLock).
struct WorkBuf {
    var next: UnsafeMutablePointer<WorkBuf>? = nil
    var n: Int = 0
    static var capacity: Int { @inline(__always) get { 510 } }   // 4 KiB blocks
    static var bytes: Int { 16 + capacity * 8 }
    /// An entry is an object address, with the object's size in words in bits 48...63 when it is below
    /// `sizeLimit` (GCState.shade), else 0 there.
    static var sizeShift: UInt { @inline(__always) get { 48 } }
    static var sizeLimit: UInt { @inline(__always) get { 1 << 16 } }
    static var addressMask: UInt { @inline(__always) get { (1 << 48) - 1 } }
}

extension UnsafeMutablePointer where Pointee == WorkBuf {
    @inline(__always) var objs: UnsafeMutablePointer<UInt> {
        (UnsafeMutableRawPointer(self) + 16).assumingMemoryBound(to: UInt.self)
    }
}

/// Collector-wide state. Every field says who may touch it.
struct GCState {
    /// GCPhase raw value (see GCPhase).
    var phase: UInt64 = 0
    /// 1 while the write barrier is on (mark and mark termination). Written with the world stopped.
    var writeBarrier: UInt64 = 0
    /// Debug switch: the barrier does nothing (for the test that shows the barrier is needed). Immutable
    /// after init, except through the testing hooks with the world stopped.
    var barrierDisabled: UInt64 = 0
    /// Which mark bitmap the current (or last) cycle uses: always GCArena.markBitmap (see GCArena).
    var markParity: UInt64 = 0
    /// GC sweep generation, +2 at each mark termination (world stopped). Spans whose GCArena.sweepgen entry
    /// differs from it need sweeping.
    var sweepgen: UInt64 = 2
    /// Futex word: 1 while the world is stopped or being stopped. Written by the coordinator (seq_cst
    /// fence after), read by mutators at scope entry/exit and safepoints.
    var stw: UInt32 = 0
    /// Futex word: bumped by a mutator that stops (leaves a scope or parks) while `stw` is set.
    var stwAck: UInt32 = 0
    /// A stop-the-world phase posted by the coordinator for the first mutator at a safepoint to run
    /// (GC.Handoff raw value, 0: none). Stored with release by the coordinator; claimed by an acq_rel
    /// exchange to 0 (by a parked mutator or the coordinator); mutators poll it with relaxed loads.
    var handoff: UInt32 = 0
    /// Futex word: bumped (acq_rel) by a mutator when a phase it claimed is done; the coordinator waits on it.
    var handoffDone: UInt32 = 0
    /// Mutators waiting in Mutation.waitForMark (acq_rel adds by them; the coordinator reads it to mark at
    /// full speed while anyone waits).
    var assistWaiters: UInt64 = 0
    /// Futex word the coordinator sleeps on between mark slices; bumped (acq_rel) by a mutator that starts
    /// waiting for mark, so the coordinator resumes at once.
    var markWake: UInt32 = 0
    /// Futex word the coordinator sleeps on; bumped by whoever requests a cycle.
    var wake: UInt32 = 0
    /// Futex word: bumped after every completed cycle (collect() waits on it).
    var cycleDone: UInt32 = 0
    /// GC.shutdown: 1 asks the coordinator to exit (release store, then a wake); it answers by storing 1 in
    /// `coordinatorExited` (release) and waking it.
    var shutdown: UInt32 = 0
    var coordinatorExited: UInt32 = 0
    /// GC.shutdown's claim (exchange), taken at its entry: a second call is a fatal error, not a hang.
    var shutdownClaimed: UInt32 = 0
    /// 1 when a cycle has been requested and not started (CAS by requesters, cleared by the coordinator).
    var requested: UInt64 = 0
    /// 1 when a pending request came from collect() (the next cycle counts as forced). Set with release by
    /// requesters before they set `requested`; taken with an acq_rel exchange by the coordinator.
    var forcedPending: UInt64 = 0
    /// Completed cycles (written by the coordinator, release; read with acquire).
    var numGC: UInt64 = 0

    /// Go: gcController.heapLive. Bytes marked by the last cycle plus bytes allocated since (atomic, relaxed:
    /// mutators add in batches; the coordinator sets it to heapMarked at mark termination, world stopped).
    /// Sweeping does not change it: unmarked objects stopped counting at mark termination.
    var heapLive: UInt64 = 0
    /// heapLive value that starts the next cycle (coordinator writes, relaxed; mutators read relaxed).
    var trigger: UInt64 = 4 << 20
    /// Go: heapGoal (coordinator).
    var goal: UInt64 = 4 << 20
    /// Bytes marked in the current cycle (atomic adds, relaxed, by markers in batches).
    var heapMarked: UInt64 = 0
    /// Bytes of scan work per allocated byte during mark, as Double bits (coordinator writes at mark start).
    var assistRatioBits: UInt64 = 0

    /// Gray work. `full`: buffers with objects; `empty`: spare buffers. Both under workLock.
    var workLock = GCLock()
    var full: UnsafeMutablePointer<WorkBuf>? = nil
    var empty: UnsafeMutablePointer<WorkBuf>? = nil
    /// Buffers in `full` (atomic relaxed reads for quick emptiness checks; written under workLock).
    var nfull: UInt64 = 0
    /// Markers currently holding gray objects outside `full` (atomic acq_rel; termination waits for 0).
    var nbusy: UInt64 = 0

    /// Arena number (address >> 26) -> GCArena (or 0). 1 << 22 entries in a NORESERVE mapping.
    /// Written once per arena under arenaLock with a release store; read with acquire (any pointer a marker
    /// follows was allocated after its arena's entry was published).
    var arenaTable: UnsafeMutablePointer<UInt64>
    var arenaLock = GCLock()
    /// Every GCArena (arenaLock).
    var arenaList: UnsafeMutablePointer<UnsafeMutablePointer<GCArena>>
    var arenaCount: Int = 0

    /// The collector's heap (for sweep statistics). Immutable after init.
    var heap: Heap? = nil
    /// The owning GC object (Unmanaged, unretained; the GC outlives every mutator). Immutable after init.
    var owner: UnsafeMutableRawPointer? = nil
    /// Cycles started / finished (coordinator writes with release; collect() reads with acquire).
    var started: UInt64 = 0
    var finished: UInt64 = 0

    /// Checkmark mode: 0 off, 1 count misses, 2 abort on a miss. Immutable after init.
    var checkmark: UInt64 = 0
    /// Objects found live by the checkmark pass but not marked by the cycle (cumulative; coordinator).
    var checkmarkMisses: UInt64 = 0

    /// The arena table (one word per possible arena) and the arena list's mappings (init, GCTeardown).
    static let arenaTableBytes = (1 << (heapAddrBits - logHeapArenaBytes)) * 8
    static let arenaListBytes = 1 << 20

    init() {
        arenaTable = gcMap(GCState.arenaTableBytes).assumingMemoryBound(to: UInt64.self)
        arenaList = gcMap(GCState.arenaListBytes).assumingMemoryBound(to: UnsafeMutablePointer<GCArena>.self)
    }
}

typealias GCStatePtr = UnsafeMutablePointer<GCState>

extension UnsafeMutablePointer where Pointee == GCState {
    @inline(__always) var phase: GCPhase { GCPhase(rawValue: gort_load_relaxed(pointer(to: \.phase)!)) ?? .off }
    @inline(__always) var isMarking: Bool { gort_load_relaxed(pointer(to: \.phase)!) != 0 }

    /// The GCArena holding `p` (an address inside an allocated object), or nil: also for a value no heap
    /// address has (a corrupt reference field), which the table does not cover.
    @inline(__always) func arena(_ p: UInt) -> UnsafeMutablePointer<GCArena>? {
        if p &>> UInt(Geometry.heapAddrBits) != 0 { return nil }
        let e = gort_load_acquire(pointee.arenaTable + Int(truncatingIfNeeded: p &>> UInt(Geometry.logHeapArenaBytes)))
        return UnsafeMutablePointer<GCArena>(bitPattern: UInt(e))
    }

    /// Publishes metadata for the arena of `p` if needed (first allocation there). Any thread.
    @inline(never) func ensureArena(_ p: UInt, heap: Heap) -> UnsafeMutablePointer<GCArena> {
        let slot = pointee.arenaTable + Int(p &>> UInt(Geometry.logHeapArenaBytes))
        pointer(to: \.arenaLock)!.lock()
        defer { pointer(to: \.arenaLock)!.unlock() }
        if let a = UnsafeMutablePointer<GCArena>(bitPattern: UInt(gort_load_acquire(slot))) { return a }
        guard let ha = heap.arena(of: UnsafeRawPointer(bitPattern: p)!) else { gcFatal("GoGC: object outside the heap") }
        let mem = gcMap(GCArena.mappedBytes)
        let a = UnsafeMutablePointer<GCArena>.allocate(capacity: 1)
        a.initialize(to: GCArena(marks: mem.assumingMemoryBound(to: UInt64.self), ptrBits: ha.bitmap, heapArena: ha,
                                 sweepgen: (mem + GCArena.marksBytes).assumingMemoryBound(to: UInt64.self),
                                 info: (mem + GCArena.marksBytes + GCArena.sweepgenBytes).assumingMemoryBound(to: UInt32.self)))
        pointee.arenaList[pointee.arenaCount] = a
        pointee.arenaCount = pointee.arenaCount + 1
        gort_store_release(slot, UInt64(UInt(bitPattern: a)))
        return a
    }

    var assistRatio: Double {
        get { Double(bitPattern: gort_load_relaxed(pointer(to: \.assistRatioBits)!)) }
        nonmutating set { gort_store_relaxed(pointer(to: \.assistRatioBits)!, newValue.bitPattern) }
    }
}
