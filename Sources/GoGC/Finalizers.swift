// Finalizers. Go: runtime.SetFinalizer (mfinal.go): specials on objects, a finalizer queue, and one goroutine
// that runs them.
//
// Registered finalizers are records object -> closure (lock). During mark the collector scans each such
// object's fields (not the object itself), so what the finalizer can reach stays alive. At mark termination
// an unmarked object with a finalizer is marked (kept for one more cycle), its record moves to the queue, and
// the finalizer thread (a mutator of its own, never a collector thread) runs it once, inside a scope. Queued
// objects are roots (scanned at mark start) until their finalizer has run.
@_spi(GoGC) import GoAlloc
import CGoRuntime

final class Finalizers: @unchecked Sendable {
    typealias Fn = (Mutation, UInt) -> Void
    let lock: UnsafeMutablePointer<GCLock> = {
        let p = UnsafeMutablePointer<GCLock>.allocate(capacity: 1); p.initialize(to: GCLock()); return p
    }()
    var registered: [UInt: Fn] = [:]
    var queue: [(UInt, Fn)] = []
    var started = false
    /// Futex word the finalizer thread sleeps on.
    var wakeWord: UInt32 = 0
    /// GC.shutdown: stop() stores 1 in stopWord (release) and wakes the thread, which reads it (acquire), runs
    /// what is queued, unregisters its mutator, then stores 1 in exitedWord (release) for stop() (acquire).
    var stopWord: UInt32 = 0
    var exitedWord: UInt32 = 0
    var ran: UInt64 = 0

    deinit { lock.deallocate() }   // with its GC (GCTeardown.swift)

    /// Registers `fn` for object `p`; false (and nothing changes) if `p` already has a finalizer.
    func register(_ p: UInt, _ fn: @escaping Fn) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if registered[p] != nil { return false }
        registered[p] = fn
        return true
    }

    func forEachRegistered(_ body: (UInt) -> Void) {
        lock.lock()
        let keys = Array(registered.keys)
        lock.unlock()
        for k in keys { body(k) }
    }

    func forEachQueued(_ body: (UInt) -> Void) {
        lock.lock()
        for (p, _) in queue { body(p) }
        lock.unlock()
    }

    /// World stopped. Moves records of unmarked objects to the queue, shading each object.
    func queueUnmarked(isMarked: (UInt) -> Bool, shade: (UInt) -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        var n = 0
        for (p, fn) in registered where !isMarked(p) {
            registered[p] = nil
            queue.append((p, fn))
            shade(p)
            n += 1
        }
        return n
    }

    /// GC.shutdown: the finalizer thread, if started, runs what is queued and exits; waits for it. After
    /// this, wake() starts no thread.
    func stop() {
        lock.lock()
        let running = started
        started = true   // no thread starts from now on
        lock.unlock()
        gort_store32_release(&stopWord, 1)
        if !running { return }
        _ = gort_fetch_add32_acqrel(&wakeWord, 1)
        _ = gort_futex_wake(&wakeWord, 1)
        while gort_load32_acquire(&exitedWord) == 0 { futexWait(&exitedWord, 0, 10_000_000) }
    }

    /// After mark termination: start or wake the finalizer thread if anything is queued.
    func wake(_ gc: GC) {
        lock.lock()
        let any = !queue.isEmpty
        let start = any && !started
        if start { started = true }
        lock.unlock()
        // The thread holds the GC (strongly: it must outlive the thread, which touches it until it exits), as its
        // Mutator does: a GC with a finalizer thread is released only after shutdown() stops it.
        if start { startThread(name: "gogc-finalizer") { [gc] in self.loop(gc) } }
        if any {
            _ = gort_fetch_add32_acqrel(&wakeWord, 1)
            _ = gort_futex_wake(&wakeWord, 1)
        }
    }

    func loop(_ gc: GC) {
        var mutator: Mutator! = Mutator(gc: gc, finalizer: true)
        while true {
            let w = gort_load32_acquire(&wakeWord)
            let stopping = gort_load32_acquire(&stopWord) != 0
            var ranAny = false
            mutator.run { m in
                while true {
                    lock.lock()
                    if queue.isEmpty { lock.unlock(); break }
                    let (p, fn) = queue.removeFirst()
                    lock.unlock()
                    fn(m, p)
                    gort_fetch_add_relaxed(&ran, 1)
                    ranAny = true
                    m.safepoint()
                }
            }
            if stopping && !ranAny {
                // GC.shutdown: everything queued has run. A cycle still running (one our finalizers'
                // allocations started) may queue more at its mark termination: wait for it first.
                let st = gc.state
                if gort_load_acquire(st.pointer(to: \.started)!) != gort_load_acquire(st.pointer(to: \.finished)!)
                    || gort_load_relaxed(st.pointer(to: \.requested)!) != 0 {
                    futexWait(&wakeWord, w, 1_000_000)
                    continue
                }
                mutator = nil   // unregisters it before shutdown goes on
                gort_store32_release(&exitedWord, 1)
                _ = gort_futex_wake(&exitedWord, 1)
                return
            }
            if !ranAny { futexWait(&wakeWord, w, -1) }
        }
    }
}

extension Mutation {
    /// Go: runtime.SetFinalizer. `fn` runs once, on the finalizer thread, after `obj` is found unreachable;
    /// it may store `obj` somewhere to resurrect it (and set a new finalizer then). nil removes the finalizer.
    /// Setting one on an object that already has one is a fatal error, as in Go: remove it first.
    public func setFinalizer<T>(_ obj: Ref<T>, _ fn: ((Mutation, Ref<T>) -> Void)?) {
        let gc = GC.owner(of: self.gc)
        if let fn = fn {
            if !gc.fin.register(obj.word, { m, p in fn(m, Ref<T>(word: p)!) }) {
                gcFatal("GoGC: fatal error: setFinalizer: finalizer already set (set nil first to replace it)", pointer: obj.word)
            }
        } else {
            gc.fin.lock.lock(); gc.fin.registered[obj.word] = nil; gc.fin.lock.unlock()
        }
    }
}
