// Prefaulting: the background thread faults in fresh pages just ahead of a growing heap. Not in Go (Go's heap
// takes each page fault on the goroutine that first touches the page).
//
// A program that allocates fast into fresh memory spends much of its time in the kernel: every 4 KiB page is
// a trap, a zeroed page and a memory-cgroup charge on the allocating thread. (spawn-join, a million Swift
// tasks that keep 1.3 GB live, spent 45 % of the spawning thread's time there.) The pages a growing heap hands
// out next are predictable: first fit takes the lowest free run, so small spans march upward through the
// newest arena. So when a small span is carved from fresh (released) pages, or comes within half a window of
// the last prefaulted window's end, MHeap.allocSpan marks the next window of free, released pages as resident
// (under MHeap.lock, as the scavenger's accounting wants) and wakes the background thread, which faults the
// window in with one madvise(MADV_POPULATE_WRITE) while the allocating thread goes on. One syscall per window
// also costs the kernel less than the traps it replaces (1 GiB: 0.36 s of faults, 0.25 s populated).
//
// Bounds: only small spans trigger it (a large span may be a calloc that never touches most of its pages);
// only heaps with the background thread (16 MiB in use before it starts: small programs never prefault); the
// window is 1/32 of the pages in use, between 512 KiB and 4 MiB, so what sits resident ahead of use is a few
// percent of the heap at most. Pages prefaulted and then not used for a scavenger period are released again by
// the scavenger's usual aging. Kernels without MADV_POPULATE_WRITE (before 5.14) turn it off at the first
// failure (EINVAL); a window that fails for another reason (a memory cgroup at its limit) is only given back.
// GODEBUG=prefault=0 turns it off; under GOMEMLIMIT no window takes the retained pages over the scavenger's
// goal, 95 % of the limit.
//
// Known inexactness: a releaseMemory() that releases a window while the background thread is populating it
// can leave those pages resident while counted as released, until their next use.
import CGoRuntime

/// Prefault bookkeeping (in MHeap). All fields under MHeap.lock.
struct PrefaultState {
    /// The window waiting for the background thread (pages marked resident already), npages 0 if none.
    var base: UInt = 0
    var npages = 0
    /// A window is requested or being populated: no new request until it is done.
    var busy = false
    /// End address of the last window requested (the frontier the heap grows toward).
    var end: UInt = 0
    /// MADV_POPULATE_WRITE failed once (old kernel): prefaulting is off for this heap.
    var unsupported = false
    /// Windows populated and pages in them (statistics, tests).
    var windows: UInt64 = 0
    var pages: UInt64 = 0

    static let minWindowPages = (512 << 10) / pageSize
    static let maxWindowPages = (4 << 20) / pageSize
}

extension UnsafeMutablePointer where Pointee == MHeap {
    /// Called by allocSpan for a small span ending at `end` (`tookFresh`: some of its pages were released).
    /// Requests the next window if the heap is growing toward it. True when the background thread needs waking.
    /// MHeap.lock held.
    func prefaultAheadLocked(end: UInt, tookFresh: Bool) -> Bool {
        if pointee.prefault.busy || pointee.prefault.unsupported { return false }
        let windowPages = Swift.min(Swift.max(pointee.stats.inusePages / 32, PrefaultState.minWindowPages),
                                    PrefaultState.maxWindowPages)
        let window = UInt(windowPages << pageShift)
        // Under GOMEMLIMIT, no window that would take the retained pages over the scavenger's goal, 95 % of it
        // (the window would only be released again).
        let memLimit = pointee.config.memoryLimit
        if memLimit != .max && retainedBytesLocked() &+ UInt64(window) > memLimit / 100 * 95 { return false }
        let frontier = pointee.prefault.end
        let start: UInt
        if end <= frontier && end &+ window > frontier {
            // Inside the last window: ask for the next one once less than half of this one is left.
            if frontier - end > window / 2 { return false }
            start = frontier
        } else if tookFresh {
            start = end
        } else {
            return false
        }
        pointee.prefault.end = start &+ window
        guard let a = pointee.index.arena(of: start) else { return false }
        let first = Int((start - a.pointee.base) >> pageShift)
        let limit = Swift.min(first + windowPages, pagesPerArena)
        // The run of free, released pages at the window's start (one madvise). Pages already resident or in
        // use end it: the heap is not growing into fresh memory there.
        let free = a.pageBits(.free), scav = a.pageBits(.scavenged)
        var n = 0
        while first + n < limit {
            let w = (first + n) >> 6, bit = UInt64(1) << UInt64((first + n) & 63)
            if free[w] & scav[w] & bit == 0 { break }
            n += 1
        }
        if n == 0 { return false }
        // Resident from now on, for the accounting (the scavenger may release them again once they age).
        PageBitmap.clear(scav, first, n)
        a.pointee.scavengedPages -= n
        pointee.stats.releasedPages -= n
        pointee.prefault.base = a.pointee.base + UInt(first << pageShift)
        pointee.prefault.npages = n
        pointee.prefault.busy = true
        return true
    }

    /// Wakes the background thread for a prefault window. Any thread, after MHeap.lock is released.
    func wakeBackground() {
        // Release: the thread that sees wake = 1 takes MHeap.lock for the window anyway; the store only has to
        // be visible before the futex call, which is a full barrier.
        gort_store32_release(&pointee.scav.wake, 1)
        _ = gort_futex_wake(&pointee.scav.wake, 1)
    }

    /// Populates the requested window, if any. Background thread.
    func runPrefault() {
        pointee.lock.lock()
        let base = pointee.prefault.base, n = pointee.prefault.npages
        pointee.prefault.npages = 0
        pointee.lock.unlock()
        if n == 0 { return }
        let err = sysPopulate(UnsafeMutableRawPointer(bitPattern: base)!, n << pageShift)
        pointee.lock.lock()
        if err == 0 {
            pointee.prefault.windows += 1
            pointee.prefault.pages += UInt64(n)
        } else {
            // EINVAL: the kernel predates MADV_POPULATE_WRITE; stop asking. Either way the window was not
            // faulted in: what is still free and untouched since the request counts as released again.
            if err == EINVAL { pointee.prefault.unsupported = true }
            unmarkWindowLocked(base, n)
        }
        pointee.prefault.busy = false
        pointee.lock.unlock()
    }

    /// A window that failed to populate: its pages still free and still zeroed (so not allocated since the
    /// request) and not released get their released state back. MHeap.lock held.
    func unmarkWindowLocked(_ base: UInt, _ n: Int) {
        guard let a = pointee.index.arena(of: base) else { return }
        let first = Int((base - a.pointee.base) >> pageShift)
        let free = a.pageBits(.free), scav = a.pageBits(.scavenged), zeroed = a.pageBits(.zeroed)
        for i in first..<Swift.min(first + n, pagesPerArena) {
            let w = i >> 6, bit = UInt64(1) << UInt64(i & 63)
            if free[w] & zeroed[w] & bit == 0 || scav[w] & bit != 0 { continue }
            scav[w] |= bit
            a.pointee.scavengedPages += 1
            pointee.stats.releasedPages += 1
        }
    }
}
