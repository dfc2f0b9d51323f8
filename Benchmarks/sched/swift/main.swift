// bench-sched: scheduler workloads for `gort bench sched`. Not a test.
//   bench-sched <workload> [default|gosched] [scale]
// Workloads: skynet, spawn-join, ping-pong, yield-fanout, actor-ping-pong, parallel-map.
// `gosched` installs GoSched as the global executor (the first statement, before anything is enqueued);
// `default` leaves Swift's. Prints "<workload> <executor> <seconds> <checksum>".
import Glibc
import GoSched

let args = CommandLine.arguments
guard args.count >= 2 else {
    fputs("usage: bench-sched skynet|spawn-join|ping-pong|yield-fanout|actor-ping-pong|parallel-map [default|gosched] [scale]\n", stderr)
    exit(2)
}
let workload = args[1]
let executor = args.count > 2 ? args[2] : "gosched"
let scale = args.count > 3 ? Double(args[3]) ?? 1 : 1
if executor == "gosched" {
    guard GoSched.install() != nil else { fputs("bench-sched: GOSCHED=off is set\n", stderr); exit(2) }
} else if executor != "default" {
    fputs("bench-sched: executor must be default or gosched\n", stderr)
    exit(2)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// skynet: 1M leaves in a 10-ary tree of tasks; each node sums its children.
func skynet(_ num: Int, _ size: Int) async -> Int {
    if size == 1 { return num }
    let div = size / 10
    return await withTaskGroup(of: Int.self) { g in
        for i in 0..<10 { g.addTask { await skynet(num + i * div, div) } }
        var s = 0
        for await v in g { s += v }
        return s
    }
}

// spawn-join: N unstructured tasks spawned, then all awaited.
func spawnJoin(_ n: Int) async -> Int {
    var tasks: [Task<Int, Never>] = []
    tasks.reserveCapacity(n)
    for i in 0..<n { tasks.append(Task { i & 1 }) }
    var s = 0
    for t in tasks { s += await t.value }
    return s
}

// spawn-join-discard: N child tasks that each store their result and finish, joined by a discarding task
// group: no task outlives its own run, as no goroutine does in the Go program's WaitGroup version. (A probe
// for BENCHMARKS.md; `gort bench sched` runs spawn-join, whose handles keep every task until the join.)
func spawnJoinDiscard(_ n: Int) async -> Int {
    let res = UnsafeMutablePointer<Int>.allocate(capacity: n)
    defer { res.deallocate() }
    let out = UInt(bitPattern: res)
    await withDiscardingTaskGroup { g in
        for i in 0..<n { g.addTask { UnsafeMutablePointer<Int>(bitPattern: out)![i] = i & 1 } }
    }
    var s = 0
    for i in 0..<n { s += res[i] }
    return s
}

// ping-pong: N round trips over two unbuffered Chans.
func pingPong(_ n: Int) async -> Int {
    let ping = Chan<Int>(), pong = Chan<Int>()
    let t = Task { for _ in 0..<n { let v = await ping.receive()!; await pong.send(v + 1) } }
    var x = 0
    for _ in 0..<n { await ping.send(x); x = await pong.receive()! }
    await t.value
    return x
}

// yield-fanout: T tasks each yielding Y times.
func yieldFanout(_ tasks: Int, _ yields: Int) async -> Int {
    await withTaskGroup(of: Int.self) { g in
        for _ in 0..<tasks { g.addTask { for _ in 0..<yields { await Task.yield() }; return 1 } }
        var s = 0
        for await v in g { s += v }
        return s
    }
}

// actor-ping-pong: actor A calls actor B N times (each call hops A -> B -> A).
actor Pong {
    var hits = 0
    func pong() -> Int { hits += 1; return hits }
}
actor Ping {
    let other: Pong
    init(_ other: Pong) { self.other = other }
    func run(_ n: Int) async -> Int {
        var last = 0
        for _ in 0..<n { last = await other.pong() }
        return last
    }
}

// parallel-map: CPU-bound map over 64 chunks (xorshift rounds), summed.
func parallelMap(_ perChunk: Int) async -> Int {
    await withTaskGroup(of: UInt64.self) { g in
        for c in 0..<64 {
            g.addTask {
                var x = UInt64(c + 1) &* 0x9E3779B97F4A7C15
                for _ in 0..<perChunk { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
                return x & 0xFFFF
            }
        }
        var s: UInt64 = 0
        for await v in g { s &+= v }
        return Int(s)
    }
}

// Probes (not in `gort bench sched`): common shapes of Swift concurrency code, checked against the default
// executor for BENCHMARKS.md's "no slower than the default" (docs/sched-benchmarks.md, session 13).

// group-sum: N children of one (non-discarding) task group, their results summed with `for await`.
func groupSum(_ n: Int) async -> Int {
    await withTaskGroup(of: Int.self) { g in
        for i in 0..<n { g.addTask { i & 1 } }
        var s = 0
        for await v in g { s += v }
        return s
    }
}

// stream: N values through an AsyncStream from a producer task to the consumer.
func streamPipe(_ n: Int) async -> Int {
    let (stream, cont) = AsyncStream<Int>.makeStream()
    let producer = Task { for i in 0..<n { cont.yield(i & 1); if i & 255 == 0 { await Task.yield() } }; cont.finish() }
    var s = 0
    for await v in stream { s += v }
    await producer.value
    return s
}

// actor-contend: T tasks each call one shared actor C times.
actor Counter2 {
    var n = 0
    func add() -> Int { n += 1; return n }
}
func actorContend(_ tasks: Int, _ calls: Int) async -> Int {
    let c = Counter2()
    return await withTaskGroup(of: Int.self) { g in
        for _ in 0..<tasks { g.addTask { var last = 0; for _ in 0..<calls { last = await c.add() }; return last } }
        var m = 0
        for await v in g { m = max(m, v) }
        return m
    }
}

// sleepers: T tasks each sleeping 1 ms S times.
func sleepers(_ tasks: Int, _ sleeps: Int) async -> Int {
    await withTaskGroup(of: Int.self) { g in
        for _ in 0..<tasks { g.addTask { for _ in 0..<sleeps { try? await Task.sleep(nanoseconds: 1_000_000) }; return 1 } }
        var s = 0
        for await v in g { s += v }
        return s
    }
}

// async-let: fib(n) by two `async let` children per node above a cutoff.
@Sendable func fib(_ n: Int) async -> Int {
    if n < 12 { var a = 0, b = 1; for _ in 0..<n { (a, b) = (b, a + b) }; return a }
    async let x = fib(n - 1)
    async let y = fib(n - 2)
    return await x + y
}

// select-loop: N selects over two buffered channels, one always ready (a probe; the Go program has it too):
// the cost of `select` itself, which never parks here.
func selectLoop(_ n: Int) async -> Int {
    let ready = Chan<Int>(capacity: 1), idle = Chan<Int>(capacity: 1)
    var s = 0
    for i in 0..<n {
        await ready.send(i & 1)
        s += await select(ready.onReceive { v, _ in v! }, idle.onReceive { _, _ in 100 })
    }
    return s
}

// external-resume: N continuations, each resumed by a plain pthread (the shape of an event loop or a C
// library's callback thread handing results to async code): every resume enqueues from outside the executor.
final class Handoff: @unchecked Sendable {
    var mutex = pthread_mutex_t()
    var cond = pthread_cond_t()
    var slot: CheckedContinuation<Int, Never>? = nil
    var done = false
    init() { pthread_mutex_init(&mutex, nil); pthread_cond_init(&cond, nil) }
    func put(_ c: CheckedContinuation<Int, Never>) {
        pthread_mutex_lock(&mutex); slot = c; pthread_cond_signal(&cond); pthread_mutex_unlock(&mutex)
    }
    func serve() {
        var i = 0
        while true {
            pthread_mutex_lock(&mutex)
            while slot == nil && !done { pthread_cond_wait(&cond, &mutex) }
            let c = slot; slot = nil
            let stop = done
            pthread_mutex_unlock(&mutex)
            if let c = c { c.resume(returning: i & 1); i += 1 } else if stop { return }
        }
    }
}
func externalResume(_ n: Int) async -> Int {
    let h = Handoff()
    var th = pthread_t()
    let box = Unmanaged.passRetained(h).toOpaque()
    pthread_create(&th, nil, { arg in Unmanaged<Handoff>.fromOpaque(arg!).takeRetainedValue().serve(); return nil }, box)
    var s = 0
    for _ in 0..<n { s += await withCheckedContinuation { h.put($0) } }
    pthread_mutex_lock(&h.mutex); h.done = true; pthread_cond_signal(&h.cond); pthread_mutex_unlock(&h.mutex)
    pthread_join(th, nil)
    return s
}

let t0 = now()
let check: Int = await Task.detached { () async -> Int in
    switch workload {
    case "skynet":
        // The tree only bottoms out at 1 for a power of ten (size 3 would split into children of size 0 forever):
        // round the scaled size down to one.
        var leaves = 1
        while leaves * 10 <= Int(1_000_000 * scale) { leaves *= 10 }
        return await skynet(0, leaves)
    case "spawn-join": return await spawnJoin(Int(1_000_000 * scale))
    case "spawn-join-discard": return await spawnJoinDiscard(Int(1_000_000 * scale))
    case "external-resume": return await externalResume(Int(200_000 * scale))
    case "group-sum": return await groupSum(Int(1_000_000 * scale))
    case "stream": return await streamPipe(Int(1_000_000 * scale))
    case "select-loop": return await selectLoop(Int(1_000_000 * scale))
    case "actor-contend": return await actorContend(1000, Int(1000 * scale))
    case "sleepers": return await sleepers(Int(10_000 * scale), 10)
    case "async-let": return await fib(Int(34 + (scale > 1 ? 2 : 0)))
    case "ping-pong": return await pingPong(Int(1_000_000 * scale))
    case "yield-fanout": return await yieldFanout(Int(10_000 * scale), 100)
    case "actor-ping-pong": return await Ping(Pong()).run(Int(1_000_000 * scale))
    case "parallel-map": return await parallelMap(Int(4_000_000 * scale))
    default:
        fputs("bench-sched: unknown workload \(workload)\n", stderr)
        exit(2)
    }
}.value
let t1 = now()
print("\(workload) \(executor) \((t1 - t0 * 1).description) \(check)")
