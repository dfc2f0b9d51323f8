import Foundation
@testable import GoSched
import XCTest

final class ChanTests: XCTestCase {
    var sched: Scheduler!
    override func setUp() { sched = Scheduler(procs: 2) }
    override func tearDown() { sched.shutdown(); sched = nil }

    func testUnbufferedPingPong() {
        let n = soak ? 1_000_000 : 50_000
        let r = runOn(sched) { () -> Int in
            let ping = Chan<Int>(), pong = Chan<Int>()
            let t = Task { for _ in 0..<n { let v = await ping.receive()!; await pong.send(v + 1) } }
            var x = 0
            for _ in 0..<n { await ping.send(x); x = await pong.receive()! }
            await t.value
            return x
        }
        XCTAssertEqual(r, n)
    }

    func testBufferedIsFIFOAndBlocksWhenFull() {
        let r = runOn(sched) { () -> [Int] in
            let c = Chan<Int>(capacity: 3)
            let producer = Task { for i in 0..<100 { await c.send(i) }; c.close() }
            var got: [Int] = []
            for await v in c { got.append(v) }
            await producer.value
            return got
        }
        XCTAssertEqual(r, Array(0..<100))
    }

    func testCloseWakesParkedReceiversAndDrainsBuffer() {
        let r = runOn(sched) { () -> [String] in
            let c = Chan<Int>(capacity: 2)
            await c.send(1)
            await c.send(2)
            c.close()
            var out: [String] = []
            for _ in 0..<3 { let (v, ok) = await c.receiveOK(); out.append("\(v.map(String.init) ?? "nil"),\(ok)") }
            let u = Chan<String>()
            let receivers = (0..<5).map { _ in Task { await u.receiveOK().ok } }
            try? await Task.sleep(for: .milliseconds(20))  // let them park (correctness holds either way)
            u.close()
            for t in receivers { out.append("\(await t.value)") }
            return out
        }
        XCTAssertEqual(r, ["1,true", "2,true", "nil,false", "false", "false", "false", "false", "false"])
    }

    func testSelectDefaultWhenNothingReady() {
        let r = runOn(sched) { () -> String in
            let a = Chan<Int>(), b = Chan<String>()
            return await select(a.onReceive { _, _ in "a" }, b.onReceive { _, _ in "b" }, default: { "default" })
        }
        XCTAssertEqual(r, "default")
    }

    func testSelectParksThenCompletesExactlyOneCase() {
        let r = runOn(sched) { () -> [String] in
            let a = Chan<Int>(), b = Chan<String>()
            var out: [String] = []
            for round in 0..<200 {
                let sender = Task { if round % 2 == 0 { await a.send(round) } else { await b.send("s\(round)") } }
                out.append(await select(a.onReceive { v, _ in "a\(v!)" }, b.onReceive { v, _ in "b\(v!)" }))
                await sender.value
            }
            // Both channels now have no parked sudogs left behind: a send with a waiting receiver completes.
            let t = Task { await a.receive() }
            await a.send(7)
            out.append("after\(await t.value!)")
            return out
        }!
        XCTAssertEqual(r.count, 201)
        for (i, s) in r.dropLast().enumerated() { XCTAssertEqual(s, i % 2 == 0 ? "a\(i)" : "bs\(i)") }
        XCTAssertEqual(r.last, "after7")
    }

    /// Go's `select {}` parks the goroutine for good; ours parks the task (it trapped before). Other work goes on.
    func testEmptySelectParksForever() {
        let resumed = Counter()
        let r = runOn(sched) { () -> Int in
            Task { let _: Int = await select(); resumed.add() }
            try? await Task.sleep(for: .milliseconds(50))
            let c = Chan<Int>(capacity: 1)
            await c.send(3)
            return await c.receive()!
        }
        XCTAssertEqual(r, 3)
        XCTAssertEqual(resumed.value, 0)
    }

    func testSelectSendCase() {
        let r = runOn(sched) { () -> Int in
            let c = Chan<Int>()
            let recv = Task { await c.receive()! }
            let which = await select(c.onSend(41) { 1 }, Chan<Int>().onReceive { _, _ in 2 })
            return which + (await recv.value)
        }
        XCTAssertEqual(r, 42)
    }

    /// Uniform among four ready cases (the packed permutation), and among twenty (more cases than it packs).
    func testSelectUniformOverManyReadyCases() {
        for n in [4, 20] {
            let counts = runOn(sched) { () -> [Int] in
                let chans = (0..<n).map { _ in Chan<Int>(capacity: 1) }
                for c in chans { await c.send(0) }
                var counts = [Int](repeating: 0, count: n + 1)   // the last: the same case twice in a row
                var last = -1
                for _ in 0..<(1000 * n) {
                    let w = await select(chans.indices.map { i in chans[i].onReceive { _, _ in i } })
                    counts[w] += 1
                    if w == last { counts[n] += 1 }
                    last = w
                    await chans[w].send(0)
                }
                return counts
            }!
            for (i, k) in counts.prefix(n).enumerated() {
                XCTAssertGreaterThan(k, 800, "case \(i) of \(n): \(counts)")
                XCTAssertLessThan(k, 1200, "case \(i) of \(n): \(counts)")
            }
            // Independent selects: a repeat with probability 1/n (a shared draw made it about 2/n).
            XCTAssertLessThan(Double(counts[n]) / Double(1000 * n), 1.0 / Double(n) + 0.05, "\(counts)")
        }
    }

    /// Two cases on one channel, parked: either may take the value (Go parks in an unstable order; parking in
    /// case order made the first always win).
    func testParkedDuplicateCasesBothWin() {
        let counts = runOn(sched) { () -> [Int] in
            let d = Chan<Int>()
            var counts = [0, 0]
            for _ in 0..<200 {
                let t = Task { await select(d.onReceive { _, _ in 0 }, d.onReceive { _, _ in 1 }) }
                try? await Task.sleep(nanoseconds: 500_000)   // let it park first
                await d.send(7)
                counts[await t.value] += 1
            }
            return counts
        }!
        XCTAssertGreaterThan(counts[0], 50, "\(counts)")
        XCTAssertGreaterThan(counts[1], 50, "\(counts)")
    }

    /// Go's select picks uniformly among ready cases.
    func testSelectFairnessAmongReadyCases() {
        let r = runOn(sched) { () -> (Int, Int) in
            let a = Chan<Int>(capacity: 1), b = Chan<Int>(capacity: 1)
            var na = 0, nb = 0
            for _ in 0..<2000 {
                await a.send(1); await b.send(2)
                let w = await select(a.onReceive { _, _ in 0 }, b.onReceive { _, _ in 1 })
                if w == 0 { na += 1; _ = await b.receive() } else { nb += 1; _ = await a.receive() }
            }
            return (na, nb)
        }!
        XCTAssertGreaterThan(r.0, 800)
        XCTAssertGreaterThan(r.1, 800)
    }

    func testManyProducersConsumersNoLossNoDup() {
        let producers = 8, per = soak ? 100_000 : 5_000
        let r = runOn(sched) { () -> Int in
            let c = Chan<Int>(capacity: 16)
            let wg = WaitGroup()
            wg.add(producers)
            for p in 0..<producers {
                Task { for i in 0..<per { await c.send(p * per + i) }; wg.done() }
            }
            Task { await wg.wait(); c.close() }
            let consumers = (0..<4).map { _ in Task { () -> [Int] in var got: [Int] = []; for await v in c { got.append(v) }; return got } }
            var all: [Int] = []
            for t in consumers { all += await t.value }
            return Set(all).count == all.count ? all.count : -1
        }
        XCTAssertEqual(r, producers * per)
    }

    func testWaitGroup() {
        let r = runOn(sched) { () -> Int in
            let wg = WaitGroup()
            let n = Counter()
            wg.add(100)
            for _ in 0..<100 { Task { n.add(); wg.done() } }
            await wg.wait()
            await wg.wait()  // zero: returns at once
            return n.value
        }
        XCTAssertEqual(r, 100)
    }

    /// Go panics when a parked sender's channel is closed; we trap. Checked in a child process.
    func testCloseWhileSenderParkedTraps() throws {
        if isChild("GoSchedTests.ChanTests/testCloseWhileSenderParkedTraps") {
            let s = Scheduler(procs: 1)
            _ = runOn(s, timeout: 5) { () -> Int in
                let c = Chan<Int>()
                let t = Task { await c.send(1) }
                try? await Task.sleep(for: .milliseconds(50))
                c.close()
                await t.value
                return 0
            }
            print("NOT TRAPPED")
            return
        }
        // No crash backtracer: it is slow, and under Thread Sanitizer it can hang holding our pipe open.
        let (status, out) = try runChild(test: "GoSchedTests.ChanTests/testCloseWhileSenderParkedTraps",
                                         env: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(out.contains("send on closed channel"), out)
        XCTAssertFalse(out.contains("NOT TRAPPED"))
    }
}
