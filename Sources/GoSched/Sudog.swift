import CGoRuntime
import Synchronization

// Go: runtime.sudog (runtime2.go), acquireSudog / releaseSudog (proc.go). A sudog is one parked channel
// operation. As in Go it is not generic: the element lives behind `elem`, and the channel code (generic over
// T, specialized in the client) reads and writes it as a T. That makes sudogs interchangeable, so each P keeps a
// cache of free ones and parking allocates nothing in the steady state.
//
// Before this file a sudog was a generic class (Sudog<T>): each park paid swift_allocObject, retains and
// releases on the queue links, and its deinit looked up Sudog<T>'s generic metadata in the runtime's hash table
// (to destroy `elem: T?`), about 15% of a channel ping-pong round trip.
//
// Memory: one 128-byte block, 16-byte aligned. The header (below) takes the first 64 bytes and the element the
// other 64 when it fits (size <= 64, alignment <= 16); a larger element gets its own allocation, freed on
// release. Ownership: the task that acquires a sudog owns it and releases it after it has resumed; while the
// sudog is queued, the channel's lock guards the links, and a waker that dequeued it may write `elem` and `state`
// (then resumes the task: after that it no longer touches the sudog).

/// Go: runtime.sudog. Raw memory only (no ARC); reached through UnsafeMutablePointer<Sudog>.
@usableFromInline
struct Sudog {
    /// Wait-queue links. Under the channel's lock.
    @usableFromInline var next: UnsafeMutablePointer<Sudog>? = nil
    @usableFromInline var prev: UnsafeMutablePointer<Sudog>? = nil
    /// Where the element is: the block's inline half or an out-of-line buffer. Send: the value to send (a T,
    /// initialized by the sender before it parks). Receive: uninitialized until a sender or the buffer
    /// writes the value (under the channel's lock, before `state`).
    @usableFromInline var elem: UnsafeMutableRawPointer
    /// The parked task (nil for a select case: the SelectWaiter holds the continuation). Written by the owner
    /// before the channel's lock is dropped; read by the waker under or after it, before resuming.
    @usableFromInline var cont: UnsafeContinuation<Void, Never>? = nil
    /// The select this case belongs to, unretained: `select` keeps it alive until every case is dequeued.
    @usableFromInline var waiter: Unmanaged<SelectWaiter>? = nil
    @usableFromInline var caseIndex: Int = 0
    /// 0 while parked; then 1 (receive: a value was written; send: delivered) or 2 (woken by close). The
    /// waker writes elem, then stores this with release; the owner loads it with acquire after resuming.
    @usableFromInline var state: UInt32 = 0
    /// In a wait queue. Under the channel's lock.
    @usableFromInline var queued = false
    /// elem is a separate allocation (freed by releaseSudog).
    @usableFromInline var outOfLine = false

    @usableFromInline init(elem: UnsafeMutableRawPointer, outOfLine: Bool) {
        self.elem = elem
        self.outOfLine = outOfLine
    }
}

/// Block layout (see the top of the file).
@usableFromInline let sudogHeaderBytes = 64
@usableFromInline let sudogInlineBytes = 64
let sudogBlockBytes = sudogHeaderBytes + sudogInlineBytes
/// Free sudogs a P keeps (Go: 128 per P, half moved to a central list when full). Past that a sudog goes back to
/// malloc, whose per-P MCache is our central list (a deviation: Go's sched.sudogcache is not needed for that).
let sudogCacheCap = 128

extension UnsafeMutablePointer where Pointee == Sudog {
    /// The waker, under the channel's lock, after its last write to elem.
    @inlinable @inline(__always)
    func complete(ok: Bool) {
        gort_store32_release(pointer(to: \.state)!, ok ? 1 : 2)
    }

    /// The owner, after resuming: delivered / received a real value (false: woken by close).
    @inlinable @inline(__always)
    var ok: Bool { gort_load32_acquire(pointer(to: \.state)!) == 1 }

    /// Claims this sudog for completion (always true outside select). Caller holds the channel's lock.
    @inlinable
    func claim() -> Bool {
        guard let w = pointee.waiter else { return true }
        return w.takeUnretainedValue().done.compareExchange(expected: -1, desired: pointee.caseIndex,
                                                            ordering: .acquiringAndReleasing).exchanged
    }

    /// Resumes the owner. After the channel's lock is dropped; the sudog must not be touched afterwards.
    ///
    /// `state` is stored again (release) after the last read of the sudog (`cont`, or its select's), and the
    /// owner loads it with acquire once resumed (`ok`), before it releases the sudog for reuse. The continuation
    /// orders the two threads already, but when the owner has not finished suspending, that order is an atomic
    /// inside libswift_Concurrency, which Thread Sanitizer does not see: it reported our read of `cont` racing
    /// with the next owner's write (1 CI run in 7). On x86 the store is one plain move.
    @inlinable
    func wake() {
        let c = if let w = pointee.waiter { w.takeUnretainedValue().cont } else { pointee.cont }
        let state = pointer(to: \.state)!
        gort_store32_release(state, gort_load32_relaxed(state))
        c!.resume()
    }

    /// The element as a T (bound on first use).
    @inlinable @inline(__always)
    func elem<T>(_: T.Type) -> UnsafeMutablePointer<T> { pointee.elem.assumingMemoryBound(to: T.self) }
}

/// Go: acquireSudog. A sudog with room for one T (uninitialized), from the current P's cache when the caller
/// runs on a GoSched M, else from malloc.
@usableFromInline
func acquireSudog(elementSize: Int, alignment: Int) -> UnsafeMutablePointer<Sudog> {
    var block: UnsafeMutableRawPointer? = nil
    if let mp = currentM(), let pp = mp.pointee.p {
        let n = pp.pointee.nsudog  // owner only
        if n > 0 {
            block = pp.pointee.sudogCache[n - 1]
            pp.pointee.nsudog = n - 1
        }
    }
    let raw = block ?? UnsafeMutableRawPointer.allocate(byteCount: sudogBlockBytes, alignment: 16)
    let inline = elementSize <= sudogInlineBytes && alignment <= 16
    let elem = inline
        ? raw + sudogHeaderBytes
        : UnsafeMutableRawPointer.allocate(byteCount: Swift.max(elementSize, 1), alignment: alignment)
    let sg = raw.bindMemory(to: Sudog.self, capacity: 1)
    sg.initialize(to: Sudog(elem: elem, outOfLine: !inline))
    return sg
}

/// Go: releaseSudog. By the owner, once no waker can reach the sudog; its element must be uninitialized.
@usableFromInline
func releaseSudog(_ sg: UnsafeMutablePointer<Sudog>) {
    if sg.pointee.outOfLine { sg.pointee.elem.deallocate() }
    let raw = UnsafeMutableRawPointer(sg)
    if let mp = currentM(), let pp = mp.pointee.p {
        let n = pp.pointee.nsudog
        if n < sudogCacheCap {
            pp.pointee.sudogCache[n] = raw
            pp.pointee.nsudog = n + 1
            return
        }
    }
    raw.deallocate()
}

/// After every M has exited: the Ps' cached sudogs go back to malloc.
func freeSudogCaches(_ s: UnsafeMutablePointer<SchedState>) {
    for i in 0..<s.allpCount {
        let pp = s.pointee.allp[i].unsafelyUnwrapped
        for j in 0..<pp.pointee.nsudog { pp.pointee.sudogCache[j]!.deallocate() }
        pp.pointee.nsudog = 0
    }
}
