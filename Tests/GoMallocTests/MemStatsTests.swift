// GOMALLOC_STATS=PATH (%p = pid): libGoMalloc.so writes MemStats as JSON at exit. The numbers must add up and
// agree with a known workload (c/stats.h).
import Foundation
import XCTest

final class MemStatsTests: XCTestCase {
    /// `%%` in the path is a `%`; a path too long for the exit handler's buffer writes nothing (it once wrote to
    /// the path cut short) and says so on stderr.
    func testStatsPathPercentAndLength() throws {
        let dir = try TempDir.make("statspath")
        defer { dir.remove() }
        let r = try Child.run(try CProgram.path("stats"), [], preload: true,
                              env: ["GOMALLOC_STATS": dir.path + "/x%%.%p.json"], timeout: 60)
        XCTAssertTrue(r.succeeded, r.summary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x%.\(r.pid).json"])
        // Over PATH_MAX once expanded: reported, never cut short into another file.
        let long = dir.path + "/" + String(repeating: "y/", count: 2100) + "s.json"
        let r2 = try Child.run(try CProgram.path("stats"), [], preload: true, env: ["GOMALLOC_STATS": long], timeout: 60)
        XCTAssertTrue(r2.succeeded && r2.stderr.contains("path too long"), r2.summary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).count, 1, "nothing else written")
    }

    func testStatsFileAtExitAddsUp() throws {
        let dir = try TempDir.make("stats")
        defer { dir.remove() }
        let r = try Child.run(try CProgram.path("stats"), [], preload: true,
                              env: ["GOMALLOC_STATS": dir.path + "/x.%p.json"], timeout: 60)
        XCTAssertTrue(r.succeeded && r.stdout == "ok\n", r.summary)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(files, ["x.\(r.pid).json"], "one stats file, named with the child's pid")
        guard let name = files.first else { return }
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + name))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return XCTFail("not a JSON object: \(String(decoding: data, as: UTF8.self))")
        }
        func num(_ k: String) -> Int64 {
            guard let v = json[k] as? NSNumber else { XCTFail("no number \(k) in \(json.keys.sorted())"); return -1 }
            return v.int64Value
        }
        let (heapSys, inuse, idle, released) = (num("HeapSys"), num("HeapInuse"), num("HeapIdle"), num("HeapReleased"))
        let (mallocs, frees, objects, heapAlloc) = (num("Mallocs"), num("Frees"), num("HeapObjects"), num("HeapAlloc"))
        let context = String(decoding: data.prefix(800), as: UTF8.self)
        XCTAssertEqual(heapSys, inuse + idle, "HeapSys == HeapInuse + HeapIdle\n\(context)")
        XCTAssertGreaterThanOrEqual(mallocs, frees, "Mallocs >= Frees\n\(context)")
        XCTAssertEqual(objects, mallocs - frees, "HeapObjects == Mallocs - Frees\n\(context)")
        // The workload: 10,006 mallocs and 5,002 frees of its own, and 5,004 objects live at exit.
        XCTAssertGreaterThanOrEqual(mallocs, 10_006, context)
        XCTAssertGreaterThanOrEqual(frees, 5_002, context)
        XCTAssertGreaterThanOrEqual(mallocs - frees, 5_004, context)
        XCTAssertGreaterThanOrEqual(heapAlloc, 5_000 * 100 + 4 << 20, "HeapAlloc covers the live bytes\n\(context)")
        XCTAssertGreaterThanOrEqual(inuse, heapAlloc, "HeapInuse >= HeapAlloc\n\(context)")
        XCTAssertLessThanOrEqual(released, idle, "HeapReleased <= HeapIdle\n\(context)")
        XCTAssertGreaterThanOrEqual(num("LargeAllocs") - num("LargeFrees"), 4, context)

        guard let bySize = json["BySize"] as? [[String: Any]] else { return XCTFail("no BySize array") }
        XCTAssertEqual(bySize.count, 68, "one row per size class, from class 0 (size 0) as in Go")
        XCTAssertEqual((bySize[0]["Size"] as? NSNumber)?.intValue, 0)
        XCTAssertEqual((bySize[1]["Size"] as? NSNumber)?.intValue, 8)
        // Go's field names, so a script written for Go's JSON finds them (zero where malloc has no GC).
        for key in ["Lookups", "StackInuse", "StackSys", "BuckHashSys", "GCSys", "NextGC", "LastGC", "PauseTotalNs",
                    "NumGC", "NumForcedGC", "GCCPUFraction", "EnableGC", "DebugGC"] {
            XCTAssertNotNil(json[key], "no \(key)")
        }
        XCTAssertEqual((json["PauseNs"] as? [Any])?.count, 256)
        let sysSum = ["HeapSys", "StackSys", "MSpanSys", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys"].map { num($0) }.reduce(0, +)
        XCTAssertEqual(num("Sys"), sysSum, "Sys is the sum of the *Sys fields, as in Go")
        var class100Mallocs: Int64 = 0
        for row in bySize {
            let size = (row["Size"] as? NSNumber)?.int64Value ?? -1
            let m = (row["Mallocs"] as? NSNumber)?.int64Value ?? -1
            let f = (row["Frees"] as? NSNumber)?.int64Value ?? -1
            XCTAssertGreaterThanOrEqual(m, f, "BySize row \(row)")
            if size >= 100 && class100Mallocs == 0 { class100Mallocs = m }  // the first class that holds 100 bytes
        }
        XCTAssertGreaterThanOrEqual(class100Mallocs, 10_000, "the 100-byte objects show in their size class")
    }

    /// GOMEMLIMIT=16MiB: 96 MiB freed, then one allocation that needs a span releases the free pages down to the
    /// limit, so the process is small again at once; without the limit they stay resident until the background
    /// scavenger finds them aged. A malformed value warns once and runs without a limit.
    func testMemoryLimitFromTheEnvironment() throws {
        func rss(_ env: [String: String]) throws -> (kib: Int, stderr: String) {
            let r = try Child.run(try CProgram.path("memlimit"), [], preload: true, env: env, timeout: 60)
            XCTAssertTrue(r.succeeded && r.stdout.hasPrefix("rss "), r.summary)
            let kib = Int(r.stdout.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            return (kib, r.stderr)
        }
        let free = try rss(["GODEBUG": "bgscavenge=0"])
        let limited = try rss(["GODEBUG": "bgscavenge=0", "GOMEMLIMIT": "16MiB"])
        XCTAssertGreaterThan(free.kib, 90 << 10, "without a limit the freed 96 MiB are still resident")
        XCTAssertLessThan(limited.kib, 24 << 10, "under GOMEMLIMIT=16MiB the process is back under ~16 MiB")
        let bad = try rss(["GODEBUG": "bgscavenge=0", "GOMEMLIMIT": "16MB"])
        XCTAssertTrue(bad.stderr.contains("gomalloc: malformed GOMEMLIMIT ignored"), bad.stderr)
        XCTAssertGreaterThan(bad.kib, 90 << 10, "a malformed limit is no limit")
    }
}
