import XCTest
import Foundation
@testable import GoGC

/// GODEBUG=gctrace=1 lines in Go's exact format, and the MemStats GC fields with Go's meanings.
final class ObservabilityTests: XCTestCase {
    /// Go's gctrace line (Go 1.19, mgc.go): the shape every GoGC line must have.
    static let gctracePattern = #"^gc \d+ @\d+\.\d{3}s \d+%: [0-9.]+\+[0-9.]+\+[0-9.]+ ms clock, [0-9.]+\+[0-9.]+/[0-9.]+/[0-9.]+\+[0-9.]+ ms cpu, \d+->\d+->\d+ MB, \d+ MB goal, \d+ MB stacks, \d+ MB globals, \d+ P( \(forced\))?$"#

    static func matchesGoFormat(_ line: String) -> Bool {
        line.range(of: gctracePattern, options: .regularExpression) != nil
    }

    func testPatternAcceptsRealGoOutput() {
        // Lines printed by Go 1.19.8 (the benchmark's Go variant) on this machine.
        XCTAssertTrue(Self.matchesGoFormat("gc 85 @7.096s 15%: 0.021+42+0.020 ms clock, 0.043+7.8/17/27+0.041 ms cpu, 35->38->14 MB, 41 MB goal, 0 MB stacks, 0 MB globals, 2 P"))
        XCTAssertTrue(Self.matchesGoFormat("gc 3 @0.004s 2%: 0.009+0.60+0.002 ms clock, 0.019+0/0.27/0+0.005 ms cpu, 4->4->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)"))
        XCTAssertFalse(Self.matchesGoFormat("gc 3 @0.004s 2%: 0.009+0.60 ms clock"))
    }

    /// Go's runtime.fmtNSAsMS: whole ms from 10 ms, else two significant digits, at most three decimals.
    func testMillisecondsFormattedLikeGo() {
        let cases: [(UInt64, String)] = [
            (0, "0"), (999, "0"), (1_000, "0.001"), (21_000, "0.021"), (99_000, "0.099"), (437_000, "0.43"),
            (500_000, "0.50"), (1_200_000, "1.2"), (7_890_000, "7.8"), (9_999_999, "9.9"), (10_000_000, "10"),
            (42_700_000, "42"), (1_234_000_000, "1234"),
        ]
        for (ns, text) in cases { XCTAssertEqual(gctraceMS(ns), text, "\(ns) ns") }
        XCTAssertEqual(gctraceDecimal(7096, 3), "7.096")
        XCTAssertEqual(gctraceDecimal(10, 3), "0.010")
    }

    /// The line for Go's own example cycle above, built from the same measurements, is character for character
    /// what Go printed.
    func testTraceLineFormatsLikeGo() {
        let gc = GC(config: testConfig(concurrent: false))
        var t = CycleTimes()
        t.forced = true
        t.start = gc.startNanos + 7_096_000_000
        t.stw1Total = 21_000; t.markWall = 42_000_000; t.stw2Total = 20_000
        t.stw1 = 20_000; t.assistCPU = 7_800_000; t.markCPU = 17_000_000; t.idleCPU = 27_000_000; t.stw2 = 19_000
        t.heapStart = 35 << 20; t.heapEnd = 38 << 20; t.heapMarked = 14 << 20
        XCTAssertEqual(gc.traceLine(t, n: 85, util: 0.157, goal: 41 << 20, procs: 2),
                       "gc 85 @7.096s 15%: 0.021+42+0.020 ms clock, 0.040+7.8/17/27+0.038 ms cpu, 35->38->14 MB, 41 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)")
    }

    /// NumGC, PauseNs (one entry per cycle, newest at (NumGC+255)%256), PauseTotalNs, PauseEnd, NextGC,
    /// GCCPUFraction, NumForcedGC.
    func testMemStatsGCFields() throws {
        let gc = GC(config: testConfig(concurrent: true))
        let mu = gc.makeMutator()
        let root: Root<Node> = mu.run { m in
            var head: Ref<Node>? = nil
            for i in 0..<50_000 { let n = N.make(m, i); m.store(n, N.left, head); head = n }
            return Root(m, head)
        }
        for _ in 0..<5 { gc.collect() }
        let s = gc.stats
        XCTAssertGreaterThanOrEqual(s.numGC, 5)
        XCTAssertGreaterThanOrEqual(s.numForcedGC, 5)
        XCTAssertEqual(s.recentPauses.count, Int(s.numGC))
        XCTAssertEqual(s.pauseTotalNs, s.recentPauses.reduce(0, +), "PauseTotalNs is the sum of every cycle's pause")
        XCTAssertGreaterThan(s.pauseNs[Int((s.numGC + 255) % 256)], 0)
        XCTAssertEqual(s.recentSTWPauses.count, 2 * Int(s.numGC), "two stop-the-world pauses per cycle")
        XCTAssertEqual(s.recentSTWPauses.reduce(0, +), s.pauseTotalNs)
        XCTAssertEqual(s.maxPauseNs, s.recentSTWPauses.max())
        XCTAssertGreaterThan(s.pauseEnd[Int((s.numGC + 255) % 256)], s.pauseEnd[Int((s.numGC + 254) % 256)])
        XCTAssertGreaterThanOrEqual(s.heapMarked, 50_000 * 32)
        // NextGC: the goal, marked + marked * GOGC/100 here (no stacks, one root).
        XCTAssertGreaterThanOrEqual(s.nextGC, s.heapMarked * 2)
        XCTAssertLessThan(s.nextGC, s.heapMarked * 2 + 4096)
        XCTAssertGreaterThan(s.gcCPUFraction, 0)
        XCTAssertLessThan(s.gcCPUFraction, 1)
        XCTAssertTrue(s.json.contains("\"NumGC\":\(s.numGC)"))
        // The JSON parses, and has every field the text form has.
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(s.json.utf8)) as? [String: Any])
        for line in s.text.split(separator: "\n") {
            let name = String(line.split(separator: " ")[0])
            XCTAssertNotNil(json[name], "JSON lacks \(name)")
        }
        XCTAssertEqual((json["PauseNs"] as? [Any])?.count, 256, "Go's circular buffer")
        XCTAssertEqual((json["PauseEnd"] as? [Any])?.count, 256)
        // LastGC and PauseEnd are Unix-epoch nanoseconds, as in Go.
        let epochNow = UInt64(Date().timeIntervalSince1970 * 1e9)
        XCTAssertLessThan(epochNow - s.lastGC, 600_000_000_000, "LastGC within the last ten minutes")
        XCTAssertEqual(s.lastGC, s.pauseEnd[Int((s.numGC + 255) % 256)])
        withExtendedLifetime(root) {}
    }

    /// GOGC as Go 1.19's readGOGC reads it: exactly "off", or an atoi32 number (negative: off), else 100.
    func testGOGCParsedLikeGo() {
        let saved = getenv("GOGC").map { String(cString: $0) }
        defer { if let v = saved { setenv("GOGC", v, 1) } else { unsetenv("GOGC") } }
        let cases: [(String, Int?)] = [("50", 50), ("0", 0), ("-1", nil), ("off", nil), ("OFF", 100), ("+50", 100),
                                       (" 50", 100), ("abc", 100), ("", 100), ("3000000000", 100)]
        for (value, want) in cases {
            setenv("GOGC", value, 1)
            XCTAssertEqual(GCConfig.fromEnvironment().gcPercent, want, "GOGC=\(value)")
        }
    }
}
