/// Go: sync.WaitGroup. add(n) before starting work, done() when each piece ends, `await wait()` until the
/// counter is zero. A negative counter traps ("negative WaitGroup counter"), as in Go.
public final class WaitGroup: @unchecked Sendable {
    private let lock = RawLock()
    /// Under lock.
    private var counter = 0
    private var waiters: [UnsafeContinuation<Void, Never>] = []

    public init() {}
    deinit { lock.deallocate() }

    public func add(_ n: Int) {
        lock.lock()
        counter += n
        if counter < 0 { lock.unlock(); fatalError("sync: negative WaitGroup counter") }
        var wake: [UnsafeContinuation<Void, Never>] = []
        if counter == 0 { wake = waiters; waiters = [] }
        lock.unlock()
        for c in wake { c.resume() }
    }

    public func done() { add(-1) }

    public func wait() async {
        lock.lock()
        if counter == 0 { lock.unlock(); return }
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            waiters.append(c)
            lock.unlock()
        }
    }

    /// The current counter (racy snapshot; for tests and diagnostics).
    public var count: Int { lock.lock(); defer { lock.unlock() }; return counter }
}
