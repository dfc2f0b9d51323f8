// Mutators: threads that allocate and write collected objects. Go: the g/m/p a goroutine runs on, and
// mallocgc's GC parts (malloc.go), the write barrier (mbarrier.go), assists (mgcmark.go gcAssistAlloc).
//
// A mutator is either outside a scope (the collector may stop the world without waiting for it) or inside
// one (status 1): then it owns its MCache, may hold `Ref`s in locals, and the collector waits for it to reach
// a safepoint or leave the scope before any stop-the-world phase. Everything in MutatorState is owned by the
// mutator's thread, except: `status` (atomic), and what the coordinator touches while the world is stopped
// (the cache's spans, `slots`, the gray buffer, the shadow stack), ordered by the stop's handshake.
@_spi(GoGC) import GoAlloc
import CGoRuntime

@usableFromInline struct MutatorState {
    var gc: GCStatePtr
    var cache: Cache
    /// 0: outside any scope (or parked at a safepoint); 1: running inside a scope. Atomic (see stopTheWorld).
    var status: UInt64 = 0
    /// Nesting depth of scopes (owner).
    var depth: Int = 0
    /// Gray objects produced by this mutator's write barrier and assists.
    var gcw = GCWork()
    /// Bytes allocated since the last flush into GCState.heapLive (owner).
    var allocBytes: UInt64 = 0
    /// slots[spc]: allocation state for span class spc (AllocSlot). Reset with the world stopped.
    var slots: UnsafeMutablePointer<AllocSlot>
    /// The shadow stack: references the program keeps across safepoints without Roots. Scanned with the world
    /// stopped at mark start, so pushes and pops need no barrier (Go: stacks are scanned, not barriered).
    var stack: UnsafeMutablePointer<UInt>
    var stackCount: Int = 0
    var stackCapacity: Int
    /// Registry links (GC.registryLock).
    var next: UnsafeMutablePointer<MutatorState>? = nil
    var prev: UnsafeMutablePointer<MutatorState>? = nil
    /// Nanoseconds spent in mark assists (owner; read by the coordinator with the world stopped).
    var assistNanos: Int64 = 0
    /// The thread in the outermost scope (pthread_self), for the misuse check of a second thread entering a
    /// scope of the same mutator (gc.collect() inside a scope is caught through outerScope's chain instead).
    /// Owner writes at scope entry (relaxed store); read relaxed.
    var thread: UInt64 = 0
    /// The finalizer thread's mutator (set before registration, immutable): GC.shutdown counts the others.
    var isFinalizer = false
    /// The scope this thread was in (the TLS slot gort_tls_gc_scope) when this mutator's outermost scope
    /// began, restored when it ends: the thread's open scopes, innermost first, of any GC. Owner only.
    var outerScope: UnsafeMutablePointer<MutatorState>? = nil

    static var flushBytes: UInt64 { @inline(__always) get { 64 << 10 } }
    static var stackBytes: Int { 256 << 20 }
}

typealias MutatorPtr = UnsafeMutablePointer<MutatorState>

/// A mutator's small-object allocation state for one span class. Go: mcache.alloc[spc] with the span's
/// allocCache. GoGC allocates on its own, not through GoAlloc's fast path: it takes all the free slots of one
/// allocBits word of its cache's span at a time (Cache.gcReserveWord; they count as allocated from then on)
/// and hands them out from `free` with a count-trailing-zeros, no call, no store to the span. The slow path
/// (Mutation.allocSlow) sweeps each new span before use (Go: the sweep in mcentral.cacheSpan), does the
/// heapLive accounting for a whole word at once, writes the pointer bitmap of the word's slots at once for the
/// layout that asked (a periodic pattern when the slots are contiguous), and allocates black a word's slots at
/// once while marking. Slots reserved and not handed out go back to their span with the world stopped at
/// sweep termination and mark termination, and when the mutator unregisters (Mutation.unreserve), so at any
/// moment the reserved slots are black exactly while the phase is mark, and none outlives a cycle.
@usableFromInline struct AllocSlot {
    /// Reserved slots not handed out yet: bit i is the slot at base + i * slot size.
    @usableFromInline var free: UInt64 = 0
    @usableFromInline var base: UInt = 0
    /// The span the cache holds for this class (nil: none taken since the last flush) and its next
    /// allocBits word to reserve.
    var span: UnsafeMutablePointer<MSpan>? = nil
    var nextWord: Int = 0
    /// Nonzero: every slot left in `free` has this pointer mask in the arena bitmap already (written by the
    /// slow path when it reserved the word), so an object of that layout needs no bitmap write.
    @usableFromInline var bits: UInt64 = 0
}

/// A mutation scope: what a mutator may do while it runs. A plain value (one pointer), no ARC.
/// Obtained from `Mutator.run`; valid only inside that closure, on that thread.
public struct Mutation {
    @usableFromInline let m: UnsafeMutablePointer<MutatorState>
    init(_ m: MutatorPtr) { self.m = m }

    @inline(__always) var gc: GCStatePtr { m.pointee.gc }

    // MARK: allocation

    /// Allocates a zeroed object of `layout`, viewed as `T`. Go: newobject/mallocgc.
    @inline(__always)
    public func new<T>(_ layout: GCLayout, as: T.Type = T.self) -> Ref<T> {
        Ref<T>(raw: UnsafeMutableRawPointer(bitPattern: allocate(layout))!)
    }

    @inline(__always)
    func allocate(_ layout: GCLayout) -> UInt {
        let spc = layout.spc
        if spc &>> 1 == 0 { return allocLarge(layout, arrayCount: -1) }
        let noscan = layout.isNoscan
        let p = allocSmall(spc, slotWords: layout.slotWords, bits: noscan ? 0 : layout.mask0)
        // The slow path wrote this mask for every slot of the word it reserved (AllocSlot.bits).
        if !noscan && (layout.maskWords != nil || m.pointee.slots[spc].bits != layout.mask0) {
            writeMaskBits(p, layout.mask0, layout.maskWords, slotWords: layout.slotWords, objectWords: layout.size / 8)
        }
        return p
    }

    /// A zeroed slot of span class `spc` (slots of `slotWords` words). The fast path: see AllocSlot. `bits`:
    /// the pointer mask the slow path may write ahead for the slots it reserves (0: none).
    @inline(__always)
    func allocSmall(_ spc: Int, slotWords: Int, bits: UInt64) -> UInt {
        let st = m.pointee.slots + spc
        let f = st.pointee.free
        if f == 0 { return allocSlow(spc, slotWords: slotWords, bits: bits) }
        st.pointee.free = f & (f &- 1)
        let p = st.pointee.base &+ UInt(truncatingIfNeeded: f.trailingZeroBitCount) &* UInt(slotWords &<< 3)
        zeroSlot(p, slotWords)
        return p
    }

    /// Zeroes a slot (freed slots hold old objects). Small slots inline: word stores, relaxed atomic ones so
    /// the optimizer does not turn the loop into a call to memset.
    @inline(__always)
    func zeroSlot(_ p: UInt, _ words: Int) {
        if words > 8 { zeroLarge(p, words); return }
        var q = UnsafeMutablePointer<UInt64>(bitPattern: p)!
        let end = q + words
        repeat { gort_store_relaxed(q, 0); q += 1 } while q < end
    }

    /// An array object: one scalar word holding `count`, then `count` reference words (all nil).
    /// Go: a []*T's backing array (the length lives in the object so the program can bounds-check).
    public func newRefArray<T>(count: Int, of: T.Type = T.self) -> Ref<RefArray<T>> {
        if count < 0 { gcFatal("GoGC: fatal error: newRefArray with a negative count") }
        let bytes = (count + 1) * 8
        let p: UInt
        let sc = SizeClasses.classFor(size: max(bytes, GCLayout.minObjectBytes))
        if sc == 0 {
            p = allocLarge(GCLayout.bytes(8), arrayCount: count)
        } else {
            let slotWords = SizeClasses.size(sc) / 8
            p = allocSmall(sc << 1, slotWords: slotWords, bits: 0)
            writeRangeBits(p, from: 1, to: count + 1, slotWords: slotWords)
        }
        UnsafeMutablePointer<Int>(bitPattern: p)!.pointee = count
        return Ref(raw: UnsafeMutableRawPointer(bitPattern: p)!)
    }

    /// A pointer-free byte buffer of `count` bytes (noscan; strings and the like).
    @inline(__always)
    public func newBytes(_ count: Int) -> Ref<UInt8> {
        let sc = SizeClasses.classFor(size: max(count, GCLayout.minObjectBytes))
        if sc == 0 { return Ref(raw: UnsafeMutableRawPointer(bitPattern: allocLarge(GCLayout.bytes(count), arrayCount: -1))!) }
        let p = allocSmall(sc << 1 | 1, slotWords: SizeClasses.size(sc) / 8, bits: 0)
        return Ref(raw: UnsafeMutableRawPointer(bitPattern: p)!)
    }

    // MARK: reference fields (barriered)

    /// Loads a reference field. No read barrier (Go has none either).
    @inline(__always)
    public func load<O, T>(_ obj: Ref<O>, _ f: RefField<O, T>) -> Ref<T>? {
        Ref<T>(word: UInt(gort_load_relaxed((obj.raw + f.offset).assumingMemoryBound(to: UInt64.self))))
    }

    /// Stores a reference field through the write barrier. Go: the hybrid barrier (mbarrier.go): while
    /// marking, shade the old value (Yuasa deletion) and the new value (Dijkstra insertion).
    @inline(__always)
    public func store<O, T>(_ obj: Ref<O>, _ f: RefField<O, T>, _ v: Ref<T>?) {
        storeWord((obj.raw + f.offset).assumingMemoryBound(to: UInt64.self), UInt64(v?.word ?? 0))
    }

    @inline(__always)
    func storeWord(_ slot: UnsafeMutablePointer<UInt64>, _ v: UInt64) {
        if gort_load_relaxed(gc.pointer(to: \.writeBarrier)!) != 0 { barrierSlow(slot, v) }
        // Relaxed: markers read fields with relaxed loads; what they must see of the target object was
        // published by the mark bit's acq_rel RMW or by the stop-the-world handshake.
        gort_store_relaxed(slot, v)
    }

    @inline(never)
    func barrierSlow(_ slot: UnsafeMutablePointer<UInt64>, _ v: UInt64) {
        let g = gc
        if gort_load_relaxed(g.pointer(to: \.barrierDisabled)!) != 0 { return }
        let gcw = m.pointer(to: \.gcw)!
        g.shade(UInt(gort_load_relaxed(slot)), gcw)
        g.shade(UInt(v), gcw)
    }

    /// Element `i` of a reference array.
    @inline(__always)
    public func load<T>(_ a: Ref<RefArray<T>>, _ i: Int) -> Ref<T>? {
        if i < 0 || i >= a.count { gcFatal("GoGC: fatal error: RefArray index out of range") }
        return Ref<T>(word: UInt(gort_load_relaxed((a.raw + 8 + i &* 8).assumingMemoryBound(to: UInt64.self))))
    }

    @inline(__always)
    public func store<T>(_ a: Ref<RefArray<T>>, _ i: Int, _ v: Ref<T>?) {
        if i < 0 || i >= a.count { gcFatal("GoGC: fatal error: RefArray index out of range") }
        storeWord((a.raw + 8 + i &* 8).assumingMemoryBound(to: UInt64.self), UInt64(v?.word ?? 0))
    }

    // MARK: shadow stack

    /// Pushes a reference on the shadow stack; returns its slot index. Slots survive safepoints.
    @inline(__always) @discardableResult
    public func push<T>(_ r: Ref<T>?) -> Int {
        let i = m.pointee.stackCount
        if i == m.pointee.stackCapacity { gcFatal("GoGC: shadow stack overflow") }
        m.pointee.stack[i] = r?.word ?? 0
        m.pointee.stackCount = i &+ 1
        return i
    }
    /// The reference in shadow-stack slot `i`.
    @inline(__always) public func stackSlot<T>(_ i: Int, as: T.Type = T.self) -> Ref<T>? { Ref<T>(word: m.pointee.stack[i]) }
    /// Replaces slot `i` (no barrier needed: see MutatorState.stack).
    @inline(__always) public func setStackSlot<T>(_ i: Int, _ r: Ref<T>?) { m.pointee.stack[i] = r?.word ?? 0 }
    /// Current depth of the shadow stack.
    @inline(__always) public var stackDepth: Int { m.pointee.stackCount }
    /// Pops slots down to `depth`.
    @inline(__always) public func popStack(to depth: Int) { m.pointee.stackCount = depth }

    // MARK: safepoints

    /// Go: a preemption point. The collector may stop the world here. The caller promises that every `Ref`
    /// it needs afterwards is held in an object, a Root, a Weak or the shadow stack: other locals are dead.
    @inline(__always)
    public func safepoint() {
        if gort_load32_relaxed(gc.pointer(to: \.stw)!) | gort_load32_relaxed(gc.pointer(to: \.handoff)!) != 0
            || (gort_load_relaxed(gc.pointer(to: \.phase)!) != 0 && gc.hasLocalWork(gcwPtr)) {
            safepointSlow()
        }
    }

    /// Runs a full collection (Go: runtime.GC) from inside a scope; like `safepoint`, locals die.
    public func collect() {
        let owner = GC.owner(of: gc)
        park()
        owner.collect()
        unpark()
    }

    @inline(__always) var gcwPtr: UnsafeMutablePointer<GCWork> { m.pointer(to: \.gcw)! }
}

/// Marker type for reference arrays (`Ref<RefArray<T>>`). Word 0 is the count.
public struct RefArray<T> {}

extension Ref where T == UInt8 {
    /// The bytes of a buffer made with `newBytes`.
    @inline(__always) public var bytes: UnsafeMutablePointer<UInt8> { raw.assumingMemoryBound(to: UInt8.self) }
}
/// What `Ref.count` needs: only reference arrays have a count.
public protocol GCArrayObject {}
extension RefArray: GCArrayObject {}

extension Ref where T: GCArrayObject {
    /// Number of elements of a reference array (word 0 of the object).
    @inline(__always) public var count: Int { raw.load(as: Int.self) }
}
