// Whole-heap invariant checks (mimalloc's mi_assert_expensive level). Called by tests, and on slow paths under
// GODEBUG=allocchecks=1. Never allocates; returns the first violation.
import CGoRuntime

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Checks arenas, page accounting, every in-use span and every cache's retained lists. Caller: no other
    /// thread is using the heap.
    func checkAllInvariants() -> StaticString? {
        pointee.lock.lock()
        defer { pointee.lock.unlock() }
        if let m = checkInvariantsLocked() { return m }
        // Retained lists belong to their caches' owners (no lock), so only a quiescent heap can walk them all;
        // the slow-path checks (GODEBUG=allocchecks=1) run checkInvariantsLocked alone.
        var c = pointee.caches
        while let x = c {
            if let m = x.checkRetainedInvariants() { return report(m) }
            c = x.pointee.nextCache
        }
        return nil
    }

    /// GODEBUG=allocchecks=1's check on MHeap's slow paths, amortized. The walk costs about one step per span
    /// record and per 64 arena pages, so it runs once the slow paths since the last walk reach 1/64 of that: on
    /// every slow path while the heap is small, and at a constant factor of the program's own work however big it
    /// grows. (A check on every slow path made the knob quadratic: a Perl script with 2 million live objects
    /// went from 6 s to over 2 minutes.) Caller holds MHeap.lock.
    func checkInvariantsAmortizedLocked() {
        pointee.checkDebt += 64
        if pointee.checkDebt < pointee.allspansCount + pointee.arenaCount * (pagesPerArena / 64) { return }
        pointee.checkDebt = 0
        checkInvariantsLocked()
    }

    @discardableResult
    func checkInvariantsLocked() -> StaticString? {
        var free = 0, released = 0, claimed = 0
        for i in 0..<pointee.arenaCount {
            let a = pointee.arenas[i]
            if i > 0 && pointee.arenas[i - 1].pointee.base >= a.pointee.base { return report("arenas not sorted") }
            if pointee.index.arena(of: a.pointee.base) != a { return report("arena index does not map arena") }
            if let m = a.checkInvariants() { return report(m) }
            free += a.pointee.freePages
            released += a.pointee.scavengedPages
            claimed += a.pointee.claimedPages
        }
        if released != pointee.stats.releasedPages { return report("released page count mismatch") }
        if pointee.arenaCount * pagesPerArena - free - claimed != pointee.stats.inusePages {
            return report("in-use page count mismatch")
        }
        var inuse = 0
        for i in 0..<pointee.allspansCount {
            let s = pointee.allspans[i]
            if s.pointee.state != MSpanState.inUse.rawValue { continue }
            inuse += 1
            if spanOf(s.pointee.startAddr) != s { return report("span not mapped by its first page") }
            if spanOf(s.pointee.startAddr + (s.pointee.npages - 1) * UInt(pageSize)) != s { return report("span not mapped by its last page") }
        }
        if inuse != pointee.stats.spansInUse { return report("spans in use mismatch") }
        if pointee.metaCarved + pointee.metaDropped + metaUncarvedLocked() != pointee.metaBlocks.inuse {
            return report("metadata block accounting mismatch")
        }
        return nil
    }

    private func report(_ m: StaticString) -> StaticString {
        if pointee.config.checkInvariants { fatal(m, call: "checkInvariants", pointer: UInt(bitPattern: self)) }
        return m
    }
}
