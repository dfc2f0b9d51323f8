// Go: runtime/select.go (selectgo). `select` over send and receive cases, with an optional default:
//   1. lock every channel involved, in address order (no deadlock with concurrent selects);
//   2. poll the cases in a random order (fairness: no case starves another) and complete the first ready one;
//   3. otherwise run `default` if given; otherwise park one sudog per case, all sharing one SelectWaiter.
//      The first waker to win the waiter's `done` CAS completes its case; on wake-up the others are removed.
//
//     let r = await select(
//         c1.onReceive { v, ok in "got \(v!)" },
//         c2.onSend(42) { "sent" },
//         default: { "nothing ready" })

/// One case of `select`. Build it with `Chan.onReceive` / `Chan.onSend`.
public struct SelectCase<R> {
    let chanID: ObjectIdentifier
    let lock: () -> Void
    let unlock: () -> Void
    /// Under lock: complete the case now if possible; returns the waker to run after unlocking and the result.
    let tryNow: () -> (wake: (() -> Void)?, result: () -> R)?
    /// Under lock: park a sudog for this case.
    let park: (SelectWaiter, Int) -> UnsafeMutablePointer<Sudog>
    /// Under lock: remove the parked sudog of a case that did not fire (a send case's value is destroyed).
    let unpark: (UnsafeMutablePointer<Sudog>) -> Void
    /// After winning: the result from the sudog.
    let finish: (UnsafeMutablePointer<Sudog>) -> R
}

extension Chan {
    /// A receive case: body gets (value, ok) as Go's `case v, ok := <-c`.
    public func onReceive<R>(_ body: @escaping (T?, Bool) -> R) -> SelectCase<R> {
        SelectCase(
            chanID: ObjectIdentifier(self),
            lock: { self.lock.lock() },
            unlock: { self.lock.unlock() },
            tryNow: {
                guard let (v, ok, s) = self.tryReceiveLocked() else { return nil }
                return (s.map { s in { s.wake() } }, { body(v, ok) })
            },
            park: { w, i in
                let sg = acquireSudog(elementSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
                sg.pointee.waiter = Unmanaged.passUnretained(w)
                sg.pointee.caseIndex = i
                self.recvq.enqueue(sg)
                return sg
            },
            unpark: { self.recvq.remove($0) },
            finish: { sg in
                let ok = sg.ok  // acquire: the waker's elem
                return body(ok ? sg.elem(T.self).move() : nil, ok)
            })
    }

    /// A send case (Go: `case c <- v`). Traps if the channel is closed, as Go panics.
    public func onSend<R>(_ v: T, _ body: @escaping () -> R) -> SelectCase<R> {
        SelectCase(
            chanID: ObjectIdentifier(self),
            lock: { self.lock.lock() },
            unlock: { self.lock.unlock() },
            tryNow: {
                guard let r = self.trySendLocked(v) else { return nil }
                return (r.map { s in { s.wake() } }, body)
            },
            park: { w, i in
                let sg = acquireSudog(elementSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
                sg.elem(T.self).initialize(to: v)
                sg.pointee.waiter = Unmanaged.passUnretained(w)
                sg.pointee.caseIndex = i
                self.sendq.enqueue(sg)
                return sg
            },
            unpark: { sg in
                // Not fired, so no receiver claimed it or took the value (claim comes first).
                self.sendq.remove(sg)
                sg.elem(T.self).deinitialize(count: 1)
            },
            finish: { sg in
                if !sg.ok { fatalError("send on closed channel") }
                return body()
            })
    }
}

/// Go: select { ... }. Waits for the first ready case (random among the ready ones) unless `default` is given.
public func select<R>(_ cases: SelectCase<R>..., default defaultCase: (() -> R)? = nil) async -> R {
    await select(cases, default: defaultCase)
}

public func select<R>(_ cases: [SelectCase<R>], default defaultCase: (() -> R)? = nil) async -> R {
    // Lock order: by channel identity, each channel once.
    var lockOrder: [Int] = []
    var seen = Set<ObjectIdentifier>()
    for i in cases.indices.sorted(by: { cases[$0].chanID < cases[$1].chanID }) where seen.insert(cases[i].chanID).inserted {
        lockOrder.append(i)
    }
    func lockAll() { for i in lockOrder { cases[i].lock() } }
    func unlockAll() { for i in lockOrder.reversed() { cases[i].unlock() } }

    lockAll()
    var rng = SystemRandomNumberGenerator()
    for i in cases.indices.shuffled(using: &rng) {
        if let r = cases[i].tryNow() {
            unlockAll()
            r.wake?()
            return r.result()
        }
    }
    if let d = defaultCase {
        unlockAll()
        return d()
    }
    if cases.isEmpty { unlockAll(); fatalError("select with no cases blocks forever") }
    let waiter = SelectWaiter()
    var sudogs: [UnsafeMutablePointer<Sudog>] = []
    for i in cases.indices { sudogs.append(cases[i].park(waiter, i)) }
    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
        waiter.cont = c
        unlockAll()
    }
    let fired = waiter.done.load(ordering: .acquiring)
    lockAll()
    for i in cases.indices where i != fired { cases[i].unpark(sudogs[i]) }
    unlockAll()
    // Every sudog is out of its queue and no waker holds one now: they go back to the P's cache. `waiter`,
    // which they reference unretained, is alive until here.
    let result = cases[fired].finish(sudogs[fired])
    for sg in sudogs { releaseSudog(sg) }
    withExtendedLifetime(waiter) {}
    return result
}
