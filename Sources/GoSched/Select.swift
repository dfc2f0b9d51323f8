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
//
// Cost, as Go keeps it: `select`, its cases and the channel operations behind them are @inlinable, so a
// client's select over Chan<Int> is specialized (unspecialized, each call looked up generic and tuple metadata
// in the runtime's tables). The poll order is a random permutation packed in a word (SelectOrder, up to 16
// cases; Go's pollorder), the lock order a walk over the cases by channel address (Go's lockorder, without its sort's
// allocation), and the random numbers come from the M's xorshift (Go's fastrand), not from the system
// generator: a select that finds a case ready makes no system call and allocates only its cases' closure
// contexts. Like send and receive (Chan.swift), select is nonisolated(nonsending): no executor hop on entry.

import CGoRuntime
import Glibc
import Synchronization

/// What `select` asks of a case (SelectCase.op).
@usableFromInline enum SelectOp {
    /// Under every channel's lock: complete the case now if it can, calling `unlockAll` first thing after, then
    /// waking the partner and running the body; nil if it cannot.
    case poll
    /// Under lock: enqueue sudog `sg` (acquired by select with the case's element size, its waiter and case
    /// index set) on the channel's queue; a send case first puts its value in it.
    case park
    /// Under lock: take back the parked sudog of a case that did not fire (a send case's value is destroyed).
    case unpark
    /// After winning, no lock: the body's result from the sudog.
    case finish
}

/// One case of `select`. Build it with `Chan.onReceive` / `Chan.onSend`. One closure (the channel, the body and
/// a send's value in its context) does everything typed; `select` itself only sees the channel's lock and
/// identity, and the element size for its sudogs.
public struct SelectCase<R> {
    @usableFromInline let chanID: ObjectIdentifier
    @usableFromInline let lock: RawLock
    @usableFromInline let elementSize: Int32
    @usableFromInline let elementAlignment: Int32
    @usableFromInline let op: (SelectOp, UnsafeMutablePointer<Sudog>?, () -> Void) -> R?

    @usableFromInline
    init(chanID: ObjectIdentifier, lock: RawLock, elementSize: Int, elementAlignment: Int,
         op: @escaping (SelectOp, UnsafeMutablePointer<Sudog>?, () -> Void) -> R?) {
        self.chanID = chanID
        self.lock = lock
        self.elementSize = Int32(elementSize)
        self.elementAlignment = Int32(elementAlignment)
        self.op = op
    }
}

extension Chan {
    /// A receive case: body gets (value, ok) as Go's `case v, ok := <-c`.
    @inlinable
    public func onReceive<R>(_ body: @escaping (T?, Bool) -> R) -> SelectCase<R> {
        SelectCase(chanID: ObjectIdentifier(self), lock: lock, elementSize: MemoryLayout<T>.size,
                   elementAlignment: MemoryLayout<T>.alignment) { op, sg, unlockAll in
            switch op {
            case .poll:
                guard let (v, ok, s) = self.tryReceiveLocked() else { return nil }
                unlockAll()
                s?.wake()
                return body(v, ok)
            case .park:
                self.recvq.enqueue(sg!)
                return nil
            case .unpark:
                self.recvq.remove(sg!)
                return nil
            case .finish:
                let ok = sg!.ok  // acquire: the waker's elem
                return body(ok ? sg!.elem(T.self).move() : nil, ok)
            }
        }
    }

    /// A send case (Go: `case c <- v`). Traps if the channel is closed, as Go panics.
    @inlinable
    public func onSend<R>(_ v: T, _ body: @escaping () -> R) -> SelectCase<R> {
        SelectCase(chanID: ObjectIdentifier(self), lock: lock, elementSize: MemoryLayout<T>.size,
                   elementAlignment: MemoryLayout<T>.alignment) { op, sg, unlockAll in
            switch op {
            case .poll:
                guard let r = self.trySendLocked(v) else { return nil }
                unlockAll()
                r?.wake()
                return body()
            case .park:
                sg!.elem(T.self).initialize(to: v)
                self.sendq.enqueue(sg!)
                return nil
            case .unpark:
                // Not fired, so no receiver claimed it or took the value (claim comes first).
                self.sendq.remove(sg!)
                sg!.elem(T.self).deinitialize(count: 1)
                return nil
            case .finish:
                if !sg!.ok { fatalError("send on closed channel") }
                return body()
            }
        }
    }
}

/// Go: select { ... }. Waits for the first ready case (random among the ready ones) unless `default` is given.
@inlinable nonisolated(nonsending)
public func select<R>(_ cases: SelectCase<R>..., default defaultCase: (() -> R)? = nil) async -> R {
    await select(cases, default: defaultCase)
}

@inlinable nonisolated(nonsending)
public func select<R>(_ cases: [SelectCase<R>], default defaultCase: (() -> R)? = nil) async -> R {
    selectLockAll(cases)
    let order = SelectOrder(cases.count)   // Go's pollorder
    for k in cases.indices {
        let c = order[k]
        if let r = cases[c].op(.poll, nil, { selectUnlockAll(cases) }) { return r }
    }
    if let d = defaultCase {
        selectUnlockAll(cases)
        return d()
    }
    return await selectPark(cases)
}

/// A random order of n cases: a permutation packed in the 4-bit fields of a word up to `selectMaxPacked` cases
/// (Fisher-Yates, no allocation), an array beyond.
@usableFromInline
struct SelectOrder {
    @usableFromInline var packed: UInt64 = 0xFEDC_BA98_7654_3210
    @usableFromInline var array: [Int] = []

    @inlinable
    init(_ n: Int) {
        if n > selectMaxPacked {
            array = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { array.swapAt(i, selectRandom(below: i + 1)) }
            return
        }
        var i = n - 1
        while i > 0 {
            let j = selectRandom(below: i + 1)
            let a = (packed &>> UInt64(4 * i)) & 0xf, b = (packed &>> UInt64(4 * j)) & 0xf
            packed ^= (a ^ b) &<< UInt64(4 * i) | (a ^ b) &<< UInt64(4 * j)
            i -= 1
        }
    }

    /// The case polled (or parked) k-th.
    @inlinable subscript(k: Int) -> Int { array.isEmpty ? Int((packed &>> UInt64(4 * k)) & 0xf) : array[k] }
}

/// Cases above which the order does not fit the packed form (16 four-bit fields).
@usableFromInline let selectMaxPacked = 16

/// Go's lockorder: every distinct channel once, by address, ascending (a walk that picks the next larger
/// address each time: n is small). Unlocking goes the other way.
@inlinable
func selectLockAll<R>(_ cases: [SelectCase<R>]) { selectWalkLocks(cases, locking: true) }

@inlinable
func selectUnlockAll<R>(_ cases: [SelectCase<R>]) { selectWalkLocks(cases, locking: false) }

/// Each distinct channel of `cases` once, ascending by address to lock, descending to unlock.
@inlinable
func selectWalkLocks<R>(_ cases: [SelectCase<R>], locking: Bool) {
    @inline(__always) func before(_ a: ObjectIdentifier, _ b: ObjectIdentifier) -> Bool { locking ? a < b : a > b }
    var prev: ObjectIdentifier? = nil
    while true {
        var next: Int = -1
        for i in cases.indices where prev.map({ before($0, cases[i].chanID) }) ?? true {
            if next < 0 || before(cases[i].chanID, cases[next].chanID) { next = i }
        }
        if next < 0 { return }
        if locking { cases[next].lock.lock() } else { cases[next].lock.unlock() }
        prev = cases[next].chanID
    }
}

/// Nothing was ready and there is no default: park a sudog on every case's channel (all locked on entry),
/// wait for the first to fire, then take the others back.
@inlinable nonisolated(nonsending)
func selectPark<R>(_ cases: [SelectCase<R>]) async -> R {
    if cases.isEmpty {
        // Go's `select {}`: the task parks for good (a never-resumed continuation, as a goroutine that never
        // wakes; its memory stays, as the goroutine's does).
        await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
        fatalError("GoSched: an empty select resumed")
    }
    let waiter = SelectWaiter()
    // Park in a random order, as Go parks in its lock order (a heap sort, unstable among equal channels): two
    // cases on one channel must not always queue in the order they were written.
    let order = SelectOrder(cases.count)
    var sudogs = [UnsafeMutablePointer<Sudog>?](repeating: nil, count: cases.count)
    for k in cases.indices {
        let i = order[k]
        let sg = acquireSudog(elementSize: Int(cases[i].elementSize), alignment: Int(cases[i].elementAlignment))
        sg.pointee.waiter = Unmanaged.passUnretained(waiter)
        sg.pointee.caseIndex = i
        _ = cases[i].op(.park, sg, {})
        sudogs[i] = sg
    }
    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
        waiter.cont = c
        selectUnlockAll(cases)
    }
    let fired = waiter.done.load(ordering: .acquiring)
    selectLockAll(cases)
    for i in cases.indices where i != fired { _ = cases[i].op(.unpark, sudogs[i], {}) }
    selectUnlockAll(cases)
    // Every sudog is out of its queue and no waker holds one now: they go back to the P's cache. `waiter`,
    // which they reference unretained, is alive until here.
    let result = cases[fired].op(.finish, sudogs[fired], {})!
    for sg in sudogs { releaseSudog(sg!) }
    withExtendedLifetime(waiter) {}
    return result
}

/// A number in 0..<n from selectRandom (Lemire's multiply-shift on its high 32 bits). A fresh draw per call, so
/// the generator moves on by as many steps as a select uses (one draw for a whole shuffle made consecutive
/// selects' orders overlap: a helper's review).
@inlinable
func selectRandom(below n: Int) -> Int { Int(((selectRandom() &>> 32) &* UInt64(n)) &>> 32) }

/// Go: fastrand. The current M's xorshift state on a GoSched thread; elsewhere a SplitMix64 step of a shared
/// counter (one relaxed fetch_add).
@usableFromInline
func selectRandom() -> UInt64 {
    if let mp = currentM() { return fastrand(mp) }
    var z = gort_fetch_add_relaxed(&selectSeed, 0x9E37_79B9_7F4A_7C15) &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// selectRandom's counter off GoSched threads (relaxed fetch_add: only its distinctness matters).
nonisolated(unsafe) var selectSeed: UInt64 = UInt64(UInt(bitPattern: time(nil))) &* 0x2545_F491_4F6C_DD1D
