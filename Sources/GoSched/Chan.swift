import Synchronization

// Go: runtime/chan.go (hchan). A channel is a lock, an optional ring buffer and two FIFO wait queues of
// sudogs (parked senders and receivers). The rules, as in Go:
//   send:    a parked receiver takes the value directly; else the buffer if it has room; else park.
//   receive: a parked sender hands its value over (through the buffer head when buffered, keeping FIFO);
//            else the buffer; else, if closed, (nil, false); else park.
//   close:   wakes every parked receiver with (nil, false) and every parked sender, which then traps
//            ("send on closed channel"), as Go panics. Closing twice traps.
// Parking is an UnsafeContinuation resumed after the lock is dropped; resuming enqueues the task on its
// executor (on GoSched: the waker's runnext, so ping-pong stays on one P). No AsyncStream underneath. Parked
// operations are raw, non-generic sudogs from the P's cache (Sudog.swift), as in Go.
//
// send, receive and receiveOK are nonisolated(nonsending) (SE-0461): they run on the caller's executor and do
// not hop to the generic executor on entry. Each hop is a swift_task_switch, whose getPreferredTaskExecutor does
// a 16-byte atomic (cmpxchg16b) on the task's status; skipping the entry hop took ping-pong from 0.81 to 0.77 s
// CPU (median of 11, GOMAXPROCS=1, with @_unsafeInheritExecutor, which this replaces). They are also
// @inline(__always): not inlined, each call allocated its async frame from the task allocator (3.5 % of
// ping-pong's samples). 11 interleaved runs against the @_unsafeInheritExecutor build: 0.57 vs 0.61 s wall.
//
// send, receive, close and the wait queues are @inlinable: a client's Chan<Int> is then specialized for Int.
// Unspecialized, every operation looked up generic metadata (Optional<T>, tuples) in the runtime's
// hash tables, which was about half the cost of a ping-pong round trip.

/// Go: g.selectDone + the parked g of a select.
@usableFromInline
final class SelectWaiter: @unchecked Sendable {
    /// The winning case index, -1 until one wins (CAS, acq_rel: the winner's writes to its sudog are visible).
    @usableFromInline let done = Atomic<Int>(-1)
    @usableFromInline var cont: UnsafeContinuation<Void, Never>?
    @usableFromInline init() {}
}

/// Go: runtime.waitq. FIFO of sudogs (Sudog.swift), under the channel lock.
@usableFromInline
struct WaitQ {
    @usableFromInline var first: UnsafeMutablePointer<Sudog>? = nil
    @usableFromInline var last: UnsafeMutablePointer<Sudog>? = nil

    @inlinable init() {}

    @inlinable
    mutating func enqueue(_ s: UnsafeMutablePointer<Sudog>) {
        s.pointee.queued = true
        s.pointee.next = nil
        s.pointee.prev = last
        if let l = last { l.pointee.next = s } else { first = s }
        last = s
    }

    /// The first sudog that can be claimed (select sudogs already won elsewhere are dropped).
    @inlinable
    mutating func dequeue() -> UnsafeMutablePointer<Sudog>? {
        while let s = first {
            remove(s)
            if s.claim() { return s }
        }
        return nil
    }

    @inlinable
    mutating func remove(_ s: UnsafeMutablePointer<Sudog>) {
        guard s.pointee.queued else { return }
        s.pointee.queued = false
        if let p = s.pointee.prev { p.pointee.next = s.pointee.next } else { first = s.pointee.next }
        if let n = s.pointee.next { n.pointee.prev = s.pointee.prev } else { last = s.pointee.prev }
        s.pointee.next = nil
        s.pointee.prev = nil
    }
}

/// Go: chan T. `Chan(capacity: 0)` is unbuffered (a rendezvous).
public final class Chan<T>: @unchecked Sendable {
    @usableFromInline let lock = RawLock()
    /// Immutable.
    public let capacity: Int
    // All below: under lock.
    @usableFromInline let buf: UnsafeMutablePointer<T>
    @usableFromInline var sendx = 0
    @usableFromInline var recvx = 0
    @usableFromInline var qcount = 0
    @usableFromInline var closed = false
    @usableFromInline var recvq = WaitQ()
    @usableFromInline var sendq = WaitQ()

    public init(capacity: Int = 0) {
        precondition(capacity >= 0, "Chan: negative capacity")
        self.capacity = capacity
        buf = .allocate(capacity: Swift.max(capacity, 1))
    }

    deinit {
        var i = recvx
        for _ in 0..<qcount { (buf + i).deinitialize(count: 1); i = (i + 1) % capacity }
        buf.deallocate()
        lock.deallocate()
    }

    /// Number of buffered values (Go: len(c)).
    public var count: Int { lock.lock(); defer { lock.unlock() }; return qcount }

    // MARK: send

    /// Go: c <- v. Parks while no receiver or buffer slot is available. Traps if the channel is closed.
    @inlinable @inline(__always) nonisolated(nonsending)
    public func send(_ v: T) async {
        lock.lock()
        if let r = trySendLocked(v) { lock.unlock(); r?.wake(); return }
        let sg = acquireSudog(elementSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        sg.elem(T.self).initialize(to: v)  // a receiver moves it out
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            sg.pointee.cont = c
            sendq.enqueue(sg)
            lock.unlock()
        }
        let ok = sg.ok
        releaseSudog(sg)
        if !ok { fatalError("send on closed channel") }
    }

    /// Under lock. nil: cannot send now. .some(sudog?): sent; wake that receiver (if any) after unlocking.
    @inlinable
    func trySendLocked(_ v: T) -> UnsafeMutablePointer<Sudog>?? {
        if closed { lock.unlock(); fatalError("send on closed channel") }
        if let r = recvq.dequeue() {
            r.elem(T.self).initialize(to: v)
            r.complete(ok: true)
            return .some(r)
        }
        if qcount < capacity {
            (buf + sendx).initialize(to: v)
            sendx = (sendx + 1) % capacity
            qcount += 1
            return .some(nil)
        }
        return nil
    }

    // MARK: receive

    /// Go: v, ok := <-c. ok is false only when the channel is closed and drained.
    @inlinable @inline(__always) nonisolated(nonsending)
    public func receiveOK() async -> (value: T?, ok: Bool) {
        lock.lock()
        if let (v, ok, s) = tryReceiveLocked() { lock.unlock(); s?.wake(); return (v, ok) }
        let sg = acquireSudog(elementSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            sg.pointee.cont = c
            recvq.enqueue(sg)
            lock.unlock()
        }
        let ok = sg.ok  // acquire: the waker's elem
        let v: T? = ok ? sg.elem(T.self).move() : nil
        releaseSudog(sg)
        return (v, ok)
    }

    /// Go: <-c. nil when closed and drained.
    @inlinable @inline(__always) nonisolated(nonsending)
    public func receive() async -> T? { await receiveOK().value }

    /// Under lock. nil: would block. Otherwise the value, ok, and a sender to wake after unlocking.
    @inlinable
    func tryReceiveLocked() -> (T?, Bool, UnsafeMutablePointer<Sudog>?)? {
        if let s = sendq.dequeue() {
            if capacity == 0 {
                let v = s.elem(T.self).move()
                s.complete(ok: true)
                return (v, true, s)
            }
            // Buffer full: take the head, put the sender's value at the tail (same slot after advancing).
            let v = (buf + recvx).move()
            (buf + recvx).initialize(to: s.elem(T.self).move())
            s.complete(ok: true)
            recvx = (recvx + 1) % capacity
            sendx = recvx
            return (v, true, s)
        }
        if qcount > 0 {
            let v = (buf + recvx).move()
            recvx = (recvx + 1) % capacity
            qcount -= 1
            return (v, true, nil)
        }
        if closed { return (nil, false, nil) }
        return nil
    }

    // MARK: close

    /// Go: close(c). Wakes all parked receivers (nil, false) and parked senders (which trap). Traps if closed.
    public func close() {
        lock.lock()
        if closed { lock.unlock(); fatalError("close of closed channel") }
        closed = true
        var wake: [UnsafeMutablePointer<Sudog>] = []
        // A woken sender's value stays in its sudog: the sender traps.
        while let r = recvq.dequeue() { r.complete(ok: false); wake.append(r) }
        while let s = sendq.dequeue() { s.complete(ok: false); wake.append(s) }
        lock.unlock()
        for s in wake { s.wake() }
    }

    public var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closed }
}

extension Chan: AsyncSequence {
    public typealias Element = T
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let chan: Chan<T>
        @inlinable init(chan: Chan<T>) { self.chan = chan }
        /// Go: for v := range c.
        @inlinable
        public mutating func next() async -> T? {
            let (v, ok) = await chan.receiveOK()
            return ok ? v : nil
        }
    }
    @inlinable
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chan: self) }
}
