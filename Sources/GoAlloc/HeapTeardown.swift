// Destroying a heap: every mapping it made goes back to the OS. Go never frees an mheap (one per process);
// GoAlloc makes one per collector (GoGC: a VM per script) and per test, so a heap that is done with must not
// keep its address space (the arena index alone reserves 32 MiB), its metadata pages and its scavenger thread.
//
// What a heap maps, all of it reached from MHeap: the MHeap struct; the arena index (ArenaIndex: L1 table and
// L2 tables); the arena list, allspans, the MCentrals and the class counters; each arena's memory and its
// HeapArena record; and the chunks of its FixAllocs (span records, caches, bitmaps, per-cache metadata blocks),
// which each FixAlloc links through the chunks' tails. The sentinel region is the process's, shared by every
// heap, and stays.
import CGoRuntime

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Stops the background scavenger (if it was started) and unmaps everything this heap mapped. The caller
    /// guarantees that no thread uses the heap, its caches or its objects, now or later; `self` is gone after.
    /// Fatal for the process's default heap (libGoMalloc.so's malloc uses it until exit).
    func destroy() {
        if UInt64(UInt(bitPattern: self)) == gort_load_acquire(&defaultHeapWord) {
            fatal("the default heap cannot be destroyed", call: "Heap.destroy", pointer: UInt(bitPattern: self))
        }
        stopBackgroundScavenger()
        let h = pointee
        for i in 0..<h.arenaCount {
            let a = h.arenas[i]
            sysFree(UnsafeMutableRawPointer(bitPattern: a.pointee.base)!, heapArenaBytes)
            sysFree(UnsafeMutableRawPointer(a), HeapArena.mappedBytes)
        }
        h.index.unmap()
        sysFree(UnsafeMutableRawPointer(h.arenas), h.arenaCapacity * 8)
        sysFree(UnsafeMutableRawPointer(h.allspans), h.allspansCapacity * 8)
        sysFree(UnsafeMutableRawPointer(h.central), numSpanClasses * MCentral.stride)
        sysFree(UnsafeMutableRawPointer(h.classCounts), classCountsBytes)
        pointee.spanalloc.unmapAll()
        pointee.cachealloc.unmapAll()
        for i in 0..<8 { bitsFixAlloc(i).pointee.unmapAll() }
        pointee.metaBlocks.unmapAll()
        deinitialize(count: 1)
        sysFree(UnsafeMutableRawPointer(self), MemoryLayout<MHeap>.stride)
    }

    /// Tells the background scavenger thread to leave and waits until it has: it stores 2 in `scav.stop` as
    /// its last access to the heap (Scavenger.swift, backgroundScavengerLoop). Nothing to wait for if it was
    /// never started, could not be created (stop is already 2), or belongs to the parent of this forked process.
    func stopBackgroundScavenger() {
        pointee.lock.lock()
        let started = pointee.scav.started && pointee.scav.threadPid == getpid()
        pointee.lock.unlock()
        if !started || gort_load32_acquire(&pointee.scav.stop) == 2 { return }
        // Release: pairs with the loop's acquire loads of `stop`; the wake makes it look now, not a period later.
        gort_store32_release(&pointee.scav.stop, 1)
        wakeBackground()
        while gort_load32_acquire(&pointee.scav.stop) != 2 { _ = gort_futex_wait(&pointee.scav.stop, 1, 1_000_000) }
    }
}

extension ArenaIndex {
    /// Unmaps the L2 tables and the L1 table (HeapTeardown.swift).
    func unmap() {
        for i in 0..<(1 << arenaL1Bits) {
            if let t = UnsafeMutableRawPointer(bitPattern: UInt(l1[i])) { sysFree(t, (1 << arenaL2Bits) * 8) }
        }
        sysFree(UnsafeMutableRawPointer(l1), (1 << arenaL1Bits) * 8)
    }
}
