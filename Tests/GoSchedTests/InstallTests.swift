import Foundation
import GoSched
import XCTest

/// Installation as the global executor is process-wide and one-time, so each check runs in a child process:
/// this test binary re-executed for one test with GOSCHED_CHILD set.
final class InstallTests: XCTestCase {
    actor Account {
        var n = 0
        func add() -> Int { n += 1; return n }
    }

    func testGlobalExecutorRunsTasksActorsAsyncLetAndSleep() throws {
        let name = "GoSchedTests.InstallTests/testGlobalExecutorRunsTasksActorsAsyncLetAndSleep"
        if isChild(name) {
            guard let sched = GoSched.install() else { print("NOT INSTALLED"); return }
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                let acct = Account()
                var onGo = GoSched.isOnSchedulerThread
                async let a = Task { GoSched.isOnSchedulerThread }.value
                let sum = await withTaskGroup(of: Bool.self) { g in
                    for _ in 0..<1000 { g.addTask { _ = await acct.add(); return GoSched.isOnSchedulerThread } }
                    var all = true
                    for await v in g { all = all && v }
                    return all
                }
                let child = await a
                onGo = onGo && child && sum
                let t0 = ContinuousClock.now
                try? await Task.sleep(for: .milliseconds(30))
                let slept = t0.duration(to: .now) >= .milliseconds(30)
                let count = await acct.n
                print("RESULT onGo=\(onGo) slept=\(slept) actor=\(count) jobs>0=\(sched.stats.jobsRun > 1000)")
                done.signal()
            }
            done.wait()
            return
        }
        let (status, out) = try runChild(test: name, env: ["GOMAXPROCS": "2", "GOSCHED": ""])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("RESULT onGo=true slept=true actor=1000 jobs>0=true"), out)
    }

    func testOptOutWithEnvironment() throws {
        let name = "GoSchedTests.InstallTests/testOptOutWithEnvironment"
        if isChild(name) {
            let s = GoSched.install()
            let done = DispatchSemaphore(value: 0)
            Task.detached { print("RESULT installed=\(s != nil) onGo=\(GoSched.isOnSchedulerThread)"); done.signal() }
            done.wait()
            return
        }
        let (status, out) = try runChild(test: name, env: ["GOSCHED": "off"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("RESULT installed=false onGo=false"), out)
    }

    func testSchedtracePrintsGoSchedLines() throws {
        let name = "GoSchedTests.InstallTests/testSchedtracePrintsGoSchedLines"
        if isChild(name) {
            let s = Scheduler(procs: 2)
            _ = runOn(s) { try? await Task.sleep(for: .milliseconds(120)); return 0 }
            s.shutdown()
            return
        }
        let (status, out) = try runChild(test: name, env: ["GODEBUG": "schedtrace=20"])
        XCTAssertEqual(status, 0, out)
        let lines = out.split(separator: "\n").filter { $0.hasPrefix("SCHED ") }
        XCTAssertGreaterThanOrEqual(lines.count, 2, out)
        let re = try NSRegularExpression(pattern: #"^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ idlethreads=\d+ runqueue=\d+ \[\d+ \d+\]$"#)
        for l in lines {
            let s = String(l)
            XCTAssertNotNil(re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)), s)
        }
    }
}
