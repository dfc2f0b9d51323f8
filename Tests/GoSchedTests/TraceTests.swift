import Foundation
import GoSched
import XCTest

/// The scheduler trace is Chrome trace-event JSON: these tests load it back and check what a viewer relies on.
final class TraceTests: XCTestCase {
    struct Loaded {
        var events: [[String: Any]] = []   // non-metadata
        var threadNames: [Int: String] = [:]
        var dropped = -1
    }

    static func load(_ data: Data) throws -> Loaded {
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let list = try XCTUnwrap(root["traceEvents"] as? [[String: Any]], "no traceEvents array")
        var l = Loaded()
        l.dropped = ((root["otherData"] as? [String: Any])?["droppedEvents"] as? Int) ?? -1
        for e in list {
            if e["ph"] as? String == "M" {
                if e["name"] as? String == "thread_name", let tid = e["tid"] as? Int {
                    l.threadNames[tid] = (e["args"] as? [String: Any])?["name"] as? String
                }
            } else {
                l.events.append(e)
            }
        }
        return l
    }

    func testTraceIsLoadableChromeJSONWithOneTrackPerM() throws {
        let sched = Scheduler(procs: 2, trace: true)
        let r = runOn(sched, timeout: 60) { () -> Int in
            let n = await withTaskGroup(of: Int.self) { g in
                for i in 0..<3000 {
                    g.addTask {
                        if i % 500 == 0 { blocking { usleep(3000) } }
                        return 1
                    }
                }
                var s = 0
                for await v in g { s += v }
                return s
            }
            try? await Task.sleep(for: .milliseconds(20))  // every M parks meanwhile
            return n
        }
        XCTAssertEqual(r, 3000)
        sched.shutdown()
        let jobsRun = Int(sched.stats.jobsRun)
        let l = try TraceTests.load(Data(sched.traceJSON().utf8))
        XCTAssertEqual(l.dropped, 0)

        var perTrack: [Int: [(Double, Double)]] = [:]
        var jobs = 0, parks = 0, blockings = 0
        for e in l.events {
            XCTAssertEqual(e["pid"] as? Int, 1)
            let tid = try XCTUnwrap(e["tid"] as? Int)
            XCTAssertNotNil(l.threadNames[tid], "track \(tid) has no thread_name")
            XCTAssertEqual(l.threadNames[tid], "M\(tid - 1)")
            let ts = try XCTUnwrap(e["ts"] as? Double)
            XCTAssertGreaterThanOrEqual(ts, 0)
            let args = try XCTUnwrap(e["args"] as? [String: Any])
            switch e["cat"] as? String {
            case "job":
                jobs += 1
                XCTAssertEqual(e["ph"] as? String, "X")
                let p = try XCTUnwrap(args["p"] as? Int)
                XCTAssertTrue(p >= 0 && p < sched.stats.localQueues.count, "P \(p)")
                XCTAssertEqual(e["name"] as? String, "P\(p) \(args["kind"] as? String ?? "?")")
                XCTAssertTrue((args["g"] as? String)?.hasPrefix("0x") ?? false)
                perTrack[tid, default: []].append((ts, ts + (try XCTUnwrap(e["dur"] as? Double))))
            case "park":
                parks += 1
                perTrack[tid, default: []].append((ts, ts + (try XCTUnwrap(e["dur"] as? Double))))
            case "blocking":
                blockings += 1  // nested inside its job's slice
            case "steal":
                XCTAssertEqual(e["ph"] as? String, "i")
            default:
                XCTFail("unknown event \(e)")
            }
        }
        XCTAssertEqual(jobs, jobsRun, "every job run is in the trace once")
        XCTAssertGreaterThan(parks, 0)
        XCTAssertEqual(blockings, 6)
        // One M does one thing at a time: its job and park slices never overlap (1 ns of rounding allowed).
        for (tid, slices) in perTrack {
            let sorted = slices.sorted { $0.0 < $1.0 }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                XCTAssertLessThanOrEqual(a.1, b.0 + 0.001, "overlapping slices on track \(tid)")
            }
        }
    }

    func testNoEventsWithoutTracing() throws {
        let sched = Scheduler(procs: 2)
        XCTAssertFalse(sched.isTracing)
        _ = runOn(sched) { await withTaskGroup(of: Void.self) { g in for _ in 0..<100 { g.addTask {} } } }
        sched.shutdown()
        XCTAssertTrue(try TraceTests.load(Data(sched.traceJSON().utf8)).events.isEmpty)
    }

    /// `gort trace` in both modes: a built-in workload in-process, and a program run with GOSCHED_TRACE
    /// (bench-sched, which calls GoSched.install()). Both are built beside this test binary.
    func testGortTraceWritesLoadableJSON() throws {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let gort = dir.appendingPathComponent("gort").path
        let bench = dir.appendingPathComponent("bench-sched").path
        guard FileManager.default.isExecutableFile(atPath: gort), FileManager.default.isExecutableFile(atPath: bench) else {
            XCTFail("gort or bench-sched missing beside the tests: build with `swift build --build-tests`")
            return
        }
        let tmp = NSTemporaryDirectory() + "gosched-trace-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }

        let a = tmp + "/skynet.json"
        let (s1, out1) = try run(gort, ["trace", "-o", a, "--workload", "skynet", "--scale", "0.001", "--procs", "2"])
        XCTAssertEqual(s1, 0, out1)
        XCTAssertTrue(out1.contains(" jobs on "), out1)
        let la = try TraceTests.load(try Data(contentsOf: URL(fileURLWithPath: a)))
        // skynet(1000) is 1111 tasks; each runs at least one job.
        XCTAssertGreaterThanOrEqual(la.events.filter { $0["cat"] as? String == "job" }.count, 1111)

        let b = tmp + "/pingpong.json"
        let (s2, out2) = try run(gort, ["trace", "-o", b, "--procs", "2", "--", bench, "ping-pong", "gosched", "0.001"])
        XCTAssertEqual(s2, 0, out2)
        let lb = try TraceTests.load(try Data(contentsOf: URL(fileURLWithPath: b)))
        // 1000 round trips: at least 2000 resumptions.
        XCTAssertGreaterThanOrEqual(lb.events.filter { $0["cat"] as? String == "job" }.count, 2000)
        XCTAssertFalse(lb.threadNames.isEmpty)

        let (s3, out3) = try run(gort, ["trace", "-o", tmp + "/x.json", "--workload", "nope"])
        XCTAssertNotEqual(s3, 0)
        XCTAssertTrue(out3.contains("unknown workload"), out3)
    }

    private func run(_ exe: String, _ args: [String]) throws -> (Int32, String) {
        try runProcess(exe, args, env: ["GOSCHED_CHILD": nil])
    }
}
