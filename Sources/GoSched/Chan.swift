import Synchronization

// Go: runtime/chan.go (hchan). A channel is a lock, an optional ring buffer and two FIFO wait queues of
// sudogs (parked senders and receivers). The rules, as in Go:
//   send:    a parked receiver takes the value directly; else the buffer if it has room; else park.
//   receive: a parked sender hands its value over (through the buffer head when buffered, keeping FIFO);
//            else the buffer; else, if closed, (nil, false); else park.
//   close:   wakes every parked receiver with (nil, false) and every parked sender, which then traps
//            ("send on closed channel"), as Go panics. Closing twice traps.
// Parking is an UnsafeContinuation resumed after the lock is dropped; resuming enqueues the task on its
// executor (on GoSched: the waker's runnext, so ping-pong stays on one P). No AsyncStream underneath.

/// Go: runtime.sudog. One parked operation on one channel. For `select`, several sudogs share a SelectWaiter
/// and only the one that wins its `done` CAS may complete.
final class Sudog<T> {
    /// Send: the value to send. Receive: the value received (set by the waker before `complete`).
    var elem: T?
    /// 0 while parked; then 1 (receive: a real value; send: delivered) or 2 (woken by close). The waker writes
    /// elem, then stores this with release; the parked side loads it with acquire after resuming, so it sees
    /// elem without taking the channel lock again (and Thread Sanitizer sees that ordering too).
    let state = Atomic<UInt8>(0)
    var cont: UnsafeContinuation<Void, Never>?
    /// Queue links (the channel's lock). `prev` is unowned(unsafe): a weak reference would give every queued
    /// sudog a side table; the queue holds each sudog strongly through `next`/`first` while it is linked.
    var next: Sudog<T>?
    unowned(unsafe) var prev: Sudog<T>?
    var queued = false
    let waiter: SelectWaiter?
    let caseIndex: Int

    init(elem: T?, waiter: SelectWaiter? = nil, caseIndex: Int = 0) {
        self.elem = elem
        self.waiter = waiter
        self.caseIndex = caseIndex
    }

    /// The waker, under the channel lock, after its last write to elem.
    @inline(__always) func complete(ok: Bool) { state.store(ok ? 1 : 2, ordering: .releasing) }

    /// The parked side, after resuming: delivered / received a real value (false: woken by close).
    @inline(__always) var ok: Bool { state.load(ordering: .acquiring) == 1 }

    /// Claims this sudog for completion (always true outside select). Caller holds the channel lock.
    @inline(__always)
    func claim() -> Bool {
        guard let w = waiter else { return true }
        return w.done.compareExchange(expected: -1, desired: caseIndex, ordering: .acquiringAndReleasing).exchanged
    }

    func wake() {
        if let w = waiter { w.cont!.resume() } else { cont!.resume() }
    }
}

/// Go: g.selectDone + the parked g of a select.
final class SelectWaiter: @unchecked Sendable {
    /// The winning case index, -1 until one wins (CAS, acq_rel: the winner's writes to its sudog are visible).
    let done = Atomic<Int>(-1)
    var cont: UnsafeContinuation<Void, Never>?
}

/// Go: runtime.waitq. FIFO of sudogs, under the channel lock.
struct WaitQ<T> {
    var first: Sudog<T>?
    var last: Sudog<T>?

    mutating func enqueue(_ s: Sudog<T>) {
        s.queued = true
        s.next = nil
        s.prev = last
        if let l = last { l.next = s } else { first = s }
        last = s
    }

    /// The first sudog that can be claimed (select sudogs already won elsewhere are dropped).
    mutating func dequeue() -> Sudog<T>? {
        while let s = first {
            remove(s)
            if s.claim() { return s }
        }
        return nil
    }

    mutating func remove(_ s: Sudog<T>) {
        guard s.queued else { return }
        s.queued = false
        if let p = s.prev { p.next = s.next } else { first = s.next }
        if let n = s.next { n.prev = s.prev } else { last = s.prev }
        s.next = nil
        s.prev = nil
    }
}

/// Go: chan T. `Chan(capacity: 0)` is unbuffered (a rendezvous).
public final class Chan<T>: @unchecked Sendable {
    let lock = RawLock()
    /// Immutable.
    public let capacity: Int
    // All below: under lock.
    let buf: UnsafeMutablePointer<T>
    var sendx = 0
    var recvx = 0
    var qcount = 0
    var closed = false
    var recvq = WaitQ<T>()
    var sendq = WaitQ<T>()

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
    public func send(_ v: T) async {
        lock.lock()
        if let r = trySendLocked(v) { lock.unlock(); r?.wake(); return }
        let sg = Sudog<T>(elem: v)
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            sg.cont = c
            sendq.enqueue(sg)
            lock.unlock()
        }
        if !sg.ok { fatalError("send on closed channel") }
    }

    /// Under lock. nil: cannot send now. .some(sudog?): sent; wake that receiver (if any) after unlocking.
    func trySendLocked(_ v: T) -> Sudog<T>?? {
        if closed { lock.unlock(); fatalError("send on closed channel") }
        if let r = recvq.dequeue() {
            r.elem = v
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
    public func receiveOK() async -> (value: T?, ok: Bool) {
        lock.lock()
        if let (v, ok, s) = tryReceiveLocked() { lock.unlock(); s?.wake(); return (v, ok) }
        let sg = Sudog<T>(elem: nil)
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            sg.cont = c
            recvq.enqueue(sg)
            lock.unlock()
        }
        let ok = sg.ok  // acquire: the waker's elem
        return (ok ? sg.elem : nil, ok)
    }

    /// Go: <-c. nil when closed and drained.
    public func receive() async -> T? { await receiveOK().value }

    /// Under lock. nil: would block. Otherwise the value, ok, and a sender to wake after unlocking.
    func tryReceiveLocked() -> (T?, Bool, Sudog<T>?)? {
        if let s = sendq.dequeue() {
            if capacity == 0 {
                let v = s.elem
                s.elem = nil
                s.complete(ok: true)
                return (v, true, s)
            }
            // Buffer full: take the head, put the sender's value at the tail (same slot after advancing).
            let v = (buf + recvx).move()
            (buf + recvx).initialize(to: s.elem!)
            s.elem = nil
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
        var wake: [Sudog<T>] = []
        while let r = recvq.dequeue() { r.elem = nil; r.complete(ok: false); wake.append(r) }
        while let s = sendq.dequeue() { s.complete(ok: false); wake.append(s) }
        lock.unlock()
        for s in wake { s.wake() }
    }

    public var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closed }
}

extension Chan: AsyncSequence {
    public typealias Element = T
    public struct AsyncIterator: AsyncIteratorProtocol {
        let chan: Chan<T>
        /// Go: for v := range c.
        public mutating func next() async -> T? {
            let (v, ok) = await chan.receiveOK()
            return ok ? v : nil
        }
    }
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chan: self) }
}
