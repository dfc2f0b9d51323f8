// SpanSet: a lock-free set of spans. Go: spanSet (mspanset.go).
//
// Go's spanSet is a lock-free queue of blocks of span pointers. Ours is a Treiber stack linked through
// MSpan.next, with a 16-bit version tag in the head's top bits (user addresses fit in 48 bits) so a pop that
// races a pop-push of the same span fails its CAS instead of corrupting the list (the ABA problem).
// LIFO order hands back the most recently used, cache-warm span first. Spans are never unmapped, so reading
// `next` of a span another thread just popped is safe; the tag then makes our CAS fail.
import CGoRuntime

/// Go: spanSet. `head` = tag << 48 | address of the top span. Any thread, atomics only:
/// push is a release CAS (the span's fields are published with it), pop an acquire CAS.
public struct SpanSet {
    var head: UInt64 = 0

    static let addrMask: UInt64 = (1 << 48) - 1

    var isEmpty: Bool { mutating get { gort_load_relaxed(&head) & SpanSet.addrMask == 0 } }
}

extension UnsafeMutablePointer where Pointee == SpanSet {
    /// Go: spanSet.push.
    func push(_ s: UnsafeMutablePointer<MSpan>) {
        let hp = UnsafeMutableRawPointer(self).assumingMemoryBound(to: UInt64.self)
        var old = gort_load_relaxed(hp)
        let nextp = UnsafeMutableRawPointer(s).assumingMemoryBound(to: MSpan.self)
        while true {
            gort_store_relaxed(UnsafeMutableRawPointer(nextp).advanced(by: MSpan.nextOffset).assumingMemoryBound(to: UInt64.self),
                               old & SpanSet.addrMask)
            let new = ((old >> 48) &+ 1) << 48 | word(s)
            if gort_cas_release(hp, &old, new) { return }
        }
    }

    /// Go: spanSet.pop. The caller becomes the span's exclusive holder.
    func pop() -> UnsafeMutablePointer<MSpan>? {
        let hp = UnsafeMutableRawPointer(self).assumingMemoryBound(to: UInt64.self)
        var old = gort_load_acquire(hp)
        while true {
            guard let s = asPointer(old & SpanSet.addrMask, to: MSpan.self) else { return nil }
            let next = gort_load_relaxed(UnsafeMutableRawPointer(s).advanced(by: MSpan.nextOffset).assumingMemoryBound(to: UInt64.self))
            let new = ((old >> 48) &+ 1) << 48 | next
            if gort_cas_acquire(hp, &old, new) {
                // Atomic: a pop that lost the race may still be reading it (its CAS then fails).
                gort_store_relaxed(UnsafeMutableRawPointer(s).advanced(by: MSpan.nextOffset).assumingMemoryBound(to: UInt64.self), 0)
                return s
            }
        }
    }

    /// Visits every span in the set. Only while the heap is quiescent (dumps, invariant checks).
    func forEachQuiescent(_ body: (UnsafeMutablePointer<MSpan>) -> Void) {
        var s = asPointer(pointee.head & SpanSet.addrMask, to: MSpan.self)
        while let x = s { body(x); s = x.pointee.next }
    }
}
