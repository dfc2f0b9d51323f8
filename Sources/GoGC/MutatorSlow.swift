// Mutator slow paths: new spans (sweep before use), black allocation, large objects, pointer bitmaps,
// allocation accounting and assists, scope entry/exit and safepoints.
@_spi(GoGC) import GoAlloc
import CGoRuntime
#if canImport(Glibc)
import Glibc
#endif

extension Mutation {
    /// The allocation slow path (see AllocSlot): reserves the next allocBits word with free slots of this
    /// class's span, or first takes a new span from the cache and sweeps it; accounts for the whole word
    /// (heapLive, and black allocation while marking); returns the word's first slot, zeroed.
    @inline(never)
    func allocSlow(_ spc: Int, slotWords: Int, bits: UInt64) -> UInt {
        let st = m.pointee.slots + spc
        let g = gc
        let bytes = UInt(slotWords &<< 3)
        while true {
            if let s = st.pointee.span {
                let r = s.gcReserveWord(from: st.pointee.nextWord)
                st.pointee.nextWord = r.nextWord
                let f = r.free
                if f != 0 {
                    st.pointee.base = r.base
                    st.pointee.free = f & (f &- 1)
                    if bits != 0 && slotWords <= 64 {
                        writeWordBits(f, r.base, slotWords, bits)
                        st.pointee.bits = bits
                    } else {
                        st.pointee.bits = 0
                    }
                    if gort_load_relaxed(g.pointer(to: \.phase)!) != 0 { blacken(f, r.base, bytes) }
                    let p = r.base &+ UInt(f.trailingZeroBitCount) &* bytes
                    zeroSlot(p, slotWords)
                    m.pointee.allocBytes = m.pointee.allocBytes &+ (UInt64(f.nonzeroBitCount) &* UInt64(bytes))
                    if m.pointee.allocBytes >= MutatorState.flushBytes { allocFlush() }
                    return p
                }
            }
            // Go: mcache.refill, then the sweep in mcentral.cacheSpan (a span is swept before use; the sweep
            // hook has usually done it already).
            guard let s = m.pointee.cache.gcNextSpan(spc) else { outOfMemory() }
            g.recordSpan(s, heap: m.pointee.cache.heap)
            g.sweepSpan(s, keep: 0)
            st.pointee.span = s
            st.pointee.nextWord = 0
        }
    }

    /// Writes pointer mask `mask` (objects of `slotWords` <= 64 words) for every slot in `free` of the word
    /// at `base`. The caller holds the span. Contiguous slots whose size divides 64 words take a periodic
    /// pattern a bitmap word at a time (spans start on page boundaries, so slots start at multiples of their
    /// size in every bitmap word); other cases go slot by slot.
    @inline(never)
    func writeWordBits(_ free: UInt64, _ base: UInt, _ slotWords: Int, _ mask: UInt64) {
        let lo = free.trailingZeroBitCount
        let run = free &>> UInt64(lo)
        let k = run.nonzeroBitCount
        let start = base &+ UInt(lo &* slotWords &* 8)
        let n = k &* slotWords
        if run & (run &+ 1) == 0 && 64 % slotWords == 0, let a = gc.arena(start),
           gc.arena(start &+ UInt(n &* 8) &- 1) == a {
            var pattern = mask
            var period = slotWords
            while period < 64 { pattern |= pattern &<< UInt64(period); period &<<= 1 }
            let bitsBase = a.pointee.ptrBits
            var w = Int((start &>> 3) & GCArena.wordMask)
            let end = w &+ n
            while w < end {
                let sh = w & 63
                let take = min(64 &- sh, end &- w)
                let m: UInt64 = take == 64 ? ~0 : ((UInt64(1) &<< UInt64(take)) &- 1) &<< UInt64(sh)
                let bp = bitsBase + (w &>> 6)
                gort_store_relaxed(bp, (bp.pointee & ~m) | (pattern & m))
                w &+= take
            }
            return
        }
        var f = free
        while f != 0 {
            writeMaskBits(base &+ UInt(f.trailingZeroBitCount &* slotWords &* 8), mask, nil, slotWords: slotWords)
            f &= f &- 1
        }
    }

    /// Allocates black (Go: gcmarknewobject) the slots in `free` of the word at `base` (slot size `bytes`).
    @inline(never)
    func blacken(_ free: UInt64, _ base: UInt, _ bytes: UInt) {
        let g = gc
        let which = m.pointee.gcw.bitmap
        if bytes == 16, let a = g.arena(base) {
            // 64 slots of 16 bytes from a 1 KiB-aligned base (allocBits word w of a page-aligned span): their
            // granules are exactly the bits of one mark word, so one OR marks them all.
            let old = gcOr64(g.markWord(a, base, which), free)
            m.pointee.gcw.markedBytes = m.pointee.gcw.markedBytes &+ (UInt64((free & ~old).nonzeroBitCount) &* 16)
            return
        }
        var f = free
        var n: UInt64 = 0
        while f != 0 {
            let p = base &+ UInt(f.trailingZeroBitCount) &* bytes
            f &= f &- 1
            guard let a = g.arena(p) else { continue }
            if g.setMark(a, p, which) { n &+= 1 }
        }
        m.pointee.gcw.markedBytes = m.pointee.gcw.markedBytes &+ (n &* UInt64(bytes))
    }

    /// Gives back the slots reserved and not handed out (AllocSlot.free) to their spans; the next allocation
    /// reserves their word again. Called with the world stopped at sweep termination and at mark termination
    /// (so no slot reserved before mark is handed out during it unmarked, and none reserved during mark stays
    /// allocated and marked as floating garbage), and when the mutator unregisters. `unmark`: their marks
    /// are cleared too (they were allocated black: reserved while marking). Returns their bytes.
    func unreserve(unmark: Bool) -> UInt64 {
        let g = gc
        var total: UInt64 = 0
        for spc in 0..<numSpanClasses {
            let st = m.pointee.slots + spc
            let f = st.pointee.free
            guard f != 0, let s = st.pointee.span else { continue }
            let size = s.gcElemSize
            if unmark, size == 16, let a = g.arena(st.pointee.base) {
                // One mark word holds exactly the word's 64 slots (see blacken).
                gcAnd64(g.markWord(a, st.pointee.base, m.pointee.gcw.bitmap), ~f)
            } else if unmark {
                var x = f
                while x != 0 {
                    let p = st.pointee.base &+ UInt(x.trailingZeroBitCount) &* size
                    x &= x &- 1
                    if let a = g.arena(p) { g.clearMark(a, p, m.pointee.gcw.bitmap) }
                }
            }
            st.pointee.nextWord = s.gcUnreserve(f, base: st.pointee.base)
            st.pointee.free = 0
            total &+= UInt64(f.nonzeroBitCount) &* UInt64(size)
        }
        return total
    }

    /// Mark termination (world stopped), after the cache was flushed: no span is held.
    func resetSlots() {
        for spc in 0..<numSpanClasses { m.pointee.slots[spc] = AllocSlot() }
    }

    @inline(never)
    func zeroLarge(_ p: UInt, _ words: Int) {
        UnsafeMutableRawPointer(bitPattern: p)!.initializeMemory(as: UInt64.self, repeating: 0, count: words)
    }

    /// Objects allocated during mark are black (Go: gcmarknewobject). `bytes`: the object's slot size (the
    /// caller knows it, so no span lookup here).
    @inline(never)
    func allocBlack(_ p: UInt, _ bytes: UInt64) {
        let g = gc
        guard let a = g.arena(p) else { return }
        if g.setMark(a, p, m.pointee.gcw.bitmap) { m.pointee.gcw.markedBytes = m.pointee.gcw.markedBytes &+ bytes }
    }

    @inline(never)
    func outOfMemory() -> Never { gcFatal("GoGC: out of memory") }

    /// Large objects (> 32 KiB): their own span, recorded in the large-object list the sweeper walks.
    /// `arrayCount` >= 0: a reference array of that many elements after a count word.
    @inline(never)
    func allocLarge(_ layout: GCLayout, arrayCount: Int) -> UInt {
        let bytes = arrayCount >= 0 ? (arrayCount + 1) * 8 : layout.size
        let noscan = arrayCount >= 0 ? arrayCount == 0 : layout.isNoscan
        guard let raw = m.pointee.cache.allocate(byteCount: bytes, alignment: 8, noscan: noscan, zeroed: true) else { outOfMemory() }
        let p = UInt(bitPattern: raw)
        let g = gc
        var q = p
        let end = p + UInt(bytes)
        while q < end {   // every arena the object covers gets its metadata
            _ = g.arena(q) ?? g.ensureArena(q, heap: m.pointee.cache.heap)
            q = (q | UInt(Geometry.heapArenaBytes - 1)) + 1
        }
        guard let s = m.pointee.cache.heap.span(of: raw) else { outOfMemory() }
        g.recordSpan(s, heap: m.pointee.cache.heap)
        let slotWords = Int(s.gcElemSize / 8)
        if !noscan {
            if arrayCount >= 0 { writeRangeBits(p, from: 1, to: arrayCount + 1, slotWords: slotWords) }
            else { writeMaskBits(p, layout.mask0, layout.maskWords, slotWords: slotWords, objectWords: layout.size / 8) }
        }
        GC.owner(of: g).largeAppend(p)
        if gort_load_relaxed(g.pointer(to: \.phase)!) != 0 { allocBlack(p, UInt64(slotWords * 8)) }
        m.pointee.allocBytes = m.pointee.allocBytes &+ (UInt64(slotWords * 8))
        if m.pointee.allocBytes >= MutatorState.flushBytes { allocFlush() }
        return p
    }

    /// Records the pointer words of a new object in the arena bitmap: `mask` for the object's words, 0 for the
    /// rest of its slot. The caller holds the object's span, so no one else writes these bitmap words
    /// (spans are page-aligned: a bitmap word never covers two spans); relaxed stores for concurrent readers.
    /// `maskWords` (layouts over 64 words) covers the layout's words only: the slot's words past them (a size
    /// class's or a large object's last page's slack, never zeroed, holding old data) are scalars.
    @inline(__always)
    func writeMaskBits(_ p: UInt, _ mask0: UInt64, _ maskWords: UnsafeMutablePointer<UInt64>?, slotWords: Int,
                       objectWords: Int = Int.max) {
        if slotWords <= 64 && maskWords == nil {
            guard let a = gc.arena(p) else { return }
            let w = Int((p &>> 3) & GCArena.wordMask)
            let bits = a.pointee.ptrBits + (w &>> 6)
            let sh = UInt64(w & 63)
            let ones: UInt64 = slotWords == 64 ? ~0 : (UInt64(1) &<< UInt64(slotWords)) &- 1
            gort_store_relaxed(bits, (bits.pointee & ~(ones &<< sh)) | (mask0 &<< sh))
            if Int(sh) &+ slotWords > 64 {
                let rs = 64 &- sh
                gort_store_relaxed(bits + 1, (bits[1] & ~(ones &>> rs)) | (mask0 &>> rs))
            }
            return
        }
        writeBitsSlow(p, slotWords: slotWords) { i in
            if i >= objectWords { return false }
            if let mw = maskWords { return mw[i >> 6] & (1 << UInt64(i & 63)) != 0 }
            return i < 64 && mask0 & (1 << UInt64(i)) != 0
        }
    }

    /// Pointer bits for words [from, to) of the slot, scalars elsewhere.
    func writeRangeBits(_ p: UInt, from: Int, to: Int, slotWords: Int) {
        writeBitsSlow(p, slotWords: slotWords) { i in i >= from && i < to }
    }

    @inline(never)
    func writeBitsSlow(_ p: UInt, slotWords: Int, _ isPtr: (Int) -> Bool) {
        var i = 0
        while i < slotWords {
            let addr = p &+ UInt(i) &* 8
            guard let a = gc.arena(addr) else { return }
            let w = Int((addr &>> 3) & GCArena.wordMask)
            let bits = a.pointee.ptrBits + (w &>> 6)
            let sh = w & 63
            let n = min(64 - sh, slotWords - i)
            var v = bits.pointee
            for k in 0..<n {
                let bit: UInt64 = 1 << UInt64(sh + k)
                if isPtr(i + k) { v |= bit } else { v &= ~bit }
            }
            gort_store_relaxed(bits, v)
            i += n
        }
    }

    /// Every 64 KiB allocated: publish heapLive, start a cycle at the trigger, pay for allocation with mark
    /// work while marking (Go: gcAssistAlloc), and let a stop-the-world request wait only briefly.
    @inline(never)
    func allocFlush() {
        let g = gc
        let bytes = m.pointee.allocBytes
        m.pointee.allocBytes = 0
        let live = gort_fetch_add_relaxed(g.pointer(to: \.heapLive)!, bytes) &+ bytes
        if gort_load_relaxed(g.pointer(to: \.phase)!) != 0 {
            do {
                let t0 = monoNanos()
                let budget = Int(Double(bytes) * g.assistRatio)
                // nbusy: while an assist holds gray objects taken from the global list, the background worker
                // must not conclude that marking is done (see GC.concurrentMark).
                _ = gort_fetch_add_acqrel(g.pointer(to: \.nbusy)!, 1)
                if budget > 0 { g.drain(gcwPtr, budget: budget) }
                // An assist never keeps gray objects: what it did not scan goes back to the global list, where
                // the background worker sees it (otherwise the worker would find nothing, end concurrent mark,
                // and mark termination would trace the rest with the world stopped).
                if g.hasLocalWork(gcwPtr) { g.flush(gcwPtr) }
                _ = gort_fetch_add_acqrel(g.pointer(to: \.nbusy)!, UInt64.max)   // -1
                if live >= gort_load_relaxed(g.pointer(to: \.goal)!) { waitForMark() }
                m.pointee.assistNanos = m.pointee.assistNanos &+ (monoNanos() &- t0)
            }
        } else if live >= gort_load_relaxed(g.pointer(to: \.trigger)!) {
            let owner = GC.owner(of: g)
            owner.requestCycle(forced: false)
            // Past the trigger with the cycle not started: help finish the last sweep, all of it once the
            // goal is reached (see GC.sweepSome).
            let overGoal = live >= gort_load_relaxed(g.pointer(to: \.goal)!)
            owner.sweepSome(overGoal ? Int.max : 16)
            if overGoal { waitForCyclePosted() }
        }
    }

    /// Go: the allocating goroutine starts the cycle itself (gcStart in mallocgc), so allocation never runs far
    /// past the goal while the cycle has not started. Here a cycle starts on the coordinator thread, which may
    /// be late (not scheduled by the OS, or finishing the last sweep): a mutator over the goal with no cycle
    /// running waits until a phase is posted (or the world stops), then goes on to its next safepoint, where
    /// it runs the phase. Not a safepoint: it stays running, and waits for nothing that needs it parked.
    @inline(never)
    func waitForCyclePosted() {
        let g = gc
        guard GC.owner(of: g).config.concurrent else { return }   // cycles start only in collect()
        while gort_load_relaxed(g.pointer(to: \.phase)!) == 0
                && gort_load_relaxed(g.pointer(to: \.heapLive)!) >= gort_load_relaxed(g.pointer(to: \.goal)!)
                && gort_load32_acquire(g.pointer(to: \.handoff)!) | gort_load32_relaxed(g.pointer(to: \.stw)!) == 0 {
            futexWait(g.pointer(to: \.handoff)!, 0, 100_000)   // GC.handOff wakes it; the timeout is a guard
        }
    }

    /// Go: gcParkAssist. The heap reached its goal during mark: allocating on would overshoot it. Help with
    /// any gray objects on the global list, otherwise sleep until the coordinator posts the end of marking
    /// (or a stop). This is not a safepoint: the mutator stays running, and it stops waiting as soon as a
    /// phase is posted, so it can go on to its next safepoint and let the phase run. While it waits the
    /// coordinator marks at full speed (`assistWaiters`).
    @inline(never)
    func waitForMark() {
        let g = gc
        _ = gort_fetch_add_acqrel(g.pointer(to: \.assistWaiters)!, 1)
        _ = gort_fetch_add32_acqrel(g.pointer(to: \.markWake)!, 1)
        _ = gort_futex_wake(g.pointer(to: \.markWake)!, 1)
        while gort_load_relaxed(g.pointer(to: \.phase)!) == GCPhase.mark.rawValue
                && gort_load32_acquire(g.pointer(to: \.handoff)!) | gort_load32_relaxed(g.pointer(to: \.stw)!) == 0 {
            if gort_load_relaxed(g.pointer(to: \.nfull)!) != 0 {
                _ = gort_fetch_add_acqrel(g.pointer(to: \.nbusy)!, 1)
                g.drain(gcwPtr, budget: 16384)
                if g.hasLocalWork(gcwPtr) { g.flush(gcwPtr) }
                _ = gort_fetch_add_acqrel(g.pointer(to: \.nbusy)!, UInt64.max)   // -1
                continue
            }
            futexWait(g.pointer(to: \.handoff)!, 0, 100_000)   // GC.handOff wakes it
        }
        _ = gort_fetch_add_acqrel(g.pointer(to: \.assistWaiters)!, UInt64.max)   // -1
    }

    @inline(never)
    func safepointSlow() {
        let g = gc
        if gort_load_relaxed(g.pointer(to: \.phase)!) != 0 { g.flush(gcwPtr) }
        if gort_load32_relaxed(g.pointer(to: \.stw)!) | gort_load32_relaxed(g.pointer(to: \.handoff)!) != 0 {
            park()   // runs a posted stop-the-world phase, if no one has claimed it yet
            unpark()
        }
    }

    /// Leaves the running state (world may stop). Flushes this mutator's gray objects and accounting.
    func park() {
        let g = gc
        // During mark, the scope's allocation pays as allocFlush makes it pay: an assist, and a wait once the heap
        // reached its goal. A program made of scopes that each allocate less than allocFlush's 64 KiB would
        // otherwise never assist nor wait, and its heap would run past the goal for as long as marking takes (a
        // CPU-starved collector: PacerTests, 2.9-4.1x the live heap with three busy loops on two cores).
        if m.pointee.allocBytes != 0 && gort_load_relaxed(g.pointer(to: \.phase)!) != 0 { allocFlush() }
        if gort_load_relaxed(g.pointer(to: \.phase)!) != 0 { g.flush(gcwPtr) }
        var overTrigger = false
        if m.pointee.allocBytes != 0 {
            let bytes = m.pointee.allocBytes
            m.pointee.allocBytes = 0
            let live = gort_fetch_add_relaxed(g.pointer(to: \.heapLive)!, bytes) &+ bytes
            // Short scopes may never reach allocFlush: the trigger is checked here too, or a program made of
            // many small scopes would never start a cycle.
            overTrigger = live >= gort_load_relaxed(g.pointer(to: \.trigger)!) && gort_load_relaxed(g.pointer(to: \.phase)!) == 0
        }
        // Over the goal with no cycle running: help finish the last sweep now, while still running. A parked
        // thread must not sweep: the next cycle's sweep termination could run meanwhile, and no span's sweep
        // may straddle the next mark start (it clears the span's marks: see GCArena).
        if gort_load_relaxed(g.pointer(to: \.phase)!) == 0
            && gort_load_relaxed(g.pointer(to: \.heapLive)!) >= gort_load_relaxed(g.pointer(to: \.goal)!)
            && gort_load32_relaxed(g.pointer(to: \.handoff)!) | gort_load32_relaxed(g.pointer(to: \.stw)!) == 0 {
            let owner = GC.owner(of: g)
            if owner.config.concurrent {
                owner.requestCycle(forced: false)
                owner.sweepSome(Int.max)
            }
        }
        // Release: the coordinator, after its acquire load of status, sees our cache, buffers and stack.
        gort_store_release(m.pointer(to: \.status)!, 0)
        // seq_cst fence: orders the status store before the stw load (Dekker with stopTheWorld, which stores
        // stw, fences, then loads every status): either it sees us stopped, or we see stw and wake it.
        gort_fence_seqcst()
        if gort_load32_acquire(g.pointer(to: \.stw)!) != 0 {
            _ = gort_fetch_add32_acqrel(g.pointer(to: \.stwAck)!, 1)
            _ = gort_futex_wake(g.pointer(to: \.stwAck)!, 1)
        }
        // A posted stop-the-world phase: run it now, stopped as we are (Go: the goroutine that triggers a
        // cycle runs its sweep termination).
        if gort_load32_relaxed(g.pointer(to: \.handoff)!) != 0 { GC.owner(of: g).runHandoff() }
        if overTrigger { GC.owner(of: g).requestCycle(forced: false) }
        if gort_load_relaxed(g.pointer(to: \.phase)!) == 0
            && gort_load_relaxed(g.pointer(to: \.heapLive)!) >= gort_load_relaxed(g.pointer(to: \.goal)!) {
            waitForCycleStart()
        }
    }

    /// The heap reached its goal and the cycle has not started (the coordinator is late: still sweeping, or
    /// not scheduled by the OS). Go starts the cycle on the allocating goroutine, so allocation cannot outrun
    /// it; here the mutator helped finish the sweep before it parked (park), and now waits for the cycle to be
    /// posted and runs its sweep termination itself (or lets whoever claimed it do so). Parked: the world may
    /// stop meanwhile, so it does not sweep here.
    @inline(never)
    func waitForCycleStart() {
        let g = gc
        let owner = GC.owner(of: g)
        guard owner.config.concurrent else { return }   // cycles start only in collect()
        owner.requestCycle(forced: false)
        while gort_load_relaxed(g.pointer(to: \.phase)!) == 0
                && gort_load_relaxed(g.pointer(to: \.heapLive)!) >= gort_load_relaxed(g.pointer(to: \.goal)!) {
            if gort_load32_acquire(g.pointer(to: \.handoff)!) != 0 { owner.runHandoff(); continue }
            futexWait(g.pointer(to: \.handoff)!, 0, 1_000_000)   // GC.handOff wakes it; the timeout is a guard
        }
    }

    /// Enters the running state, waiting while the world is stopped.
    func unpark() {
        let g = gc
        while true {
            gort_store_relaxed(m.pointer(to: \.status)!, 1)
            // seq_cst fence: orders our status store before the stw load (Dekker with stopTheWorld, which
            // stores stw, fences, then loads every status). One of the two sees the other.
            gort_fence_seqcst()
            if gort_load32_acquire(g.pointer(to: \.stw)!) == 0 { return }
            gort_store_release(m.pointer(to: \.status)!, 0)
            _ = gort_fetch_add32_acqrel(g.pointer(to: \.stwAck)!, 1)
            _ = gort_futex_wake(g.pointer(to: \.stwAck)!, 1)
            // Most pauses are tens of microseconds: yield a while before sleeping on the futex, so the
            // mutator is runnable (not asleep) when the world starts again.
            var spins = 0
            while gort_load32_acquire(g.pointer(to: \.stw)!) != 0 {
                spins += 1
                if spins < 200 { sched_yield(); continue }
                futexWait(g.pointer(to: \.stw)!, 1, -1)
            }
        }
    }
}
