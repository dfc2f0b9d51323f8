// Real programs under LD_PRELOAD=libGoMalloc.so give the same output as without it: python3 (JSON-heavy and
// multi-threaded), gcc, git, sqlite3 and `swift build`. Each preloaded run also writes GOMALLOC_STATS files, and
// the test checks that they exist and count mallocs: that proves the program really ran on our malloc.
import Foundation
import XCTest

final class RealProgramTests: XCTestCase {
    /// Runs the same command without and with the preload; returns both results after checking that both
    /// succeeded, printed the same stdout, and that the preloaded run's processes allocated from libGoMalloc.so.
    @discardableResult
    private func sameWithAndWithout(_ exe: String, _ args: [String], env: [String: String] = [:], cwd: String? = nil,
                                    timeout: TimeInterval = 120, file: StaticString = #filePath,
                                    line: UInt = #line) throws -> (plain: ChildResult, preloaded: ChildResult) {
        let plain = try Child.run(exe, args, preload: false, env: env, cwd: cwd, timeout: timeout)
        XCTAssertTrue(plain.succeeded, "\(exe) \(args) without the preload:\n\(plain.summary)", file: file, line: line)
        let preloaded = try runPreloaded(exe, args, env: env, cwd: cwd, timeout: timeout, file: file, line: line)
        XCTAssertEqual(preloaded.stdout, plain.stdout, "stdout differs under libGoMalloc.so", file: file, line: line)
        return (plain, preloaded)
    }

    /// Runs a command under the preload with GOMALLOC_STATS on, and checks it succeeded and that at least one of
    /// its processes wrote MemStats with a nonzero malloc count.
    private func runPreloaded(_ exe: String, _ args: [String], env: [String: String] = [:], cwd: String? = nil,
                              timeout: TimeInterval = 120, file: StaticString = #filePath,
                              line: UInt = #line) throws -> ChildResult {
        let stats = try TempDir.make("realstats")
        defer { stats.remove() }
        var e = env
        e["GOMALLOC_STATS"] = stats.path + "/s.%p.json"
        let r = try Child.run(exe, args, preload: true, env: e, cwd: cwd, timeout: timeout)
        XCTAssertTrue(r.succeeded, "\(exe) \(args) under libGoMalloc.so:\n\(r.summary)", file: file, line: line)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: stats.path)) ?? []
        let mallocs = files.compactMap { f -> Int64? in
            guard let d = FileManager.default.contents(atPath: stats.path + "/" + f),
                  let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return nil }
            return (j["Mallocs"] as? NSNumber)?.int64Value
        }
        XCTAssertTrue(mallocs.contains { $0 > 100 },
                      "no process of \(exe) reported mallocs from libGoMalloc.so (stats files: \(files))",
                      file: file, line: line)
        return r
    }

    /// The real python3 interpreter (python3 on PATH may be a pyenv shim, a bash script).
    private func python() throws -> String {
        guard let shim = Child.which("python3") else { throw XCTSkip("python3 is not installed") }
        let r = try Child.run(shim, ["-c", "import sys; print(sys.executable)"], preload: false, timeout: 60)
        let exe = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.succeeded, exe.hasPrefix("/") else { throw XCTSkip("cannot find python3's interpreter: \(r.summary)") }
        return exe
    }

    func testPythonJSON() throws {
        let py = try python()
        let dir = try TempDir.make("pyjson")
        defer { dir.remove() }
        try dir.write("json_heavy.py", """
            import hashlib, json, random
            random.seed(12345)
            def make(depth):
                if depth == 0:
                    return random.choice([random.random(), random.randint(-10**15, 10**15),
                                          "s%x" % random.getrandbits(64) * random.randint(1, 40), None, True, False])
                k = random.randint(1, 6)
                if random.random() < 0.5:
                    return [make(depth - 1) for _ in range(k)]
                return {"k%d_%d" % (depth, i): make(depth - 1) for i in range(k)}
            docs = [make(5) for _ in range(300)]
            h = hashlib.sha256()
            for doc in docs:
                s = json.dumps(doc, sort_keys=True)
                back = json.loads(s)
                assert back == doc
                h.update(json.dumps(back, sort_keys=True, indent=1).encode())
            big = json.dumps(docs)
            again = json.loads(big)
            assert again == docs
            print(len(docs), len(big), h.hexdigest())
            """)
        let (plain, _) = try sameWithAndWithout(py, [dir.path + "/json_heavy.py"])
        XCTAssertTrue(plain.stdout.hasPrefix("300 "), plain.stdout)
    }

    func testPythonThreads() throws {
        let py = try python()
        let dir = try TempDir.make("pythreads")
        defer { dir.remove() }
        // Eight threads build and drop objects; byte strings made by producers are freed by consumers on other
        // threads (cross-thread frees of malloc'd memory: objects over 512 bytes bypass pymalloc).
        try dir.write("threads.py", """
            import collections, hashlib, json, queue, threading
            results = {}
            lock = threading.Lock()
            q = queue.Queue(maxsize=64)
            def work(i):
                counts = collections.Counter()
                window = []
                for j in range(15000):
                    w = ("w%d" % ((i * 7919 + j * 104729) % 5000)) * (1 + j % 5)
                    counts[w] += 1
                    window.append(w)
                    if len(window) > 1000:
                        window = window[500:]
                digest = hashlib.sha256(json.dumps(sorted(counts.items())).encode()).hexdigest()
                with lock:
                    results[i] = (len(counts), digest)
            def produce(i):
                for j in range(3000):
                    q.put(bytes([(i + j) % 256]) * (600 + (j * 37) % 20000))
            consumed = [0, 0]
            def consume(k):
                total = 0
                for _ in range(3000):
                    total += sum(q.get()[:16])
                with lock:
                    consumed[k] = total
            threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
            threads += [threading.Thread(target=produce, args=(i,)) for i in range(2)]
            threads += [threading.Thread(target=consume, args=(k,)) for k in range(2)]
            for t in threads: t.start()
            for t in threads: t.join()
            for i in sorted(results):
                print(i, *results[i])
            print("consumed", sum(consumed))
            """)
        let (plain, _) = try sameWithAndWithout(py, [dir.path + "/threads.py"])
        XCTAssertTrue(plain.stdout.contains("consumed "), plain.stdout)
    }

    func testGCCCompilesTheSame() throws {
        guard let gcc = Child.which("gcc"), let nm = Child.which("nm") else { throw XCTSkip("gcc or nm missing") }
        let dir = try TempDir.make("gcc")
        defer { dir.remove() }
        try dir.write("prog.c", """
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            struct item { char name[24]; long value; };
            static int by_value(const void *a, const void *b) {
                long x = ((const struct item *)a)->value, y = ((const struct item *)b)->value;
                return x < y ? -1 : x > y;
            }
            static long collatz(long n) { long s = 0; while (n != 1) { n = n % 2 ? 3 * n + 1 : n / 2; s++; } return s; }
            int main(void) {
                enum { N = 2000 };
                struct item *items = calloc(N, sizeof *items);
                for (int i = 0; i < N; i++) { snprintf(items[i].name, sizeof items[i].name, "item-%d", i); items[i].value = collatz(i + 1); }
                qsort(items, N, sizeof *items, by_value);
                long sum = 0;
                for (int i = 0; i < N; i++) sum += items[i].value * (i + 1);
                printf("%s %ld %s %ld\\n", items[0].name, items[N - 1].value, items[N - 1].name, sum);
                free(items);
                return 0;
            }
            """)
        // The stress program too: a bigger translation unit.
        let stressSource = CProgram.sourceDir + "/stress.h"
        for (tag, preload) in [("plain", false), ("pre", true)] {
            let args = ["-O2", "-Wall", "-o", dir.path + "/prog-\(tag)", dir.path + "/prog.c"]
            let r = try preload ? runPreloaded(gcc, args) : Child.run(gcc, args, preload: false)
            XCTAssertTrue(r.succeeded, "gcc \(tag): \(r.summary)")
            let args2 = ["-x", "c", "-O2", "-c", "-o", dir.path + "/stress-\(tag).o", stressSource]
            let r2 = try preload ? runPreloaded(gcc, args2) : Child.run(gcc, args2, preload: false)
            XCTAssertTrue(r2.succeeded, "gcc -c \(tag): \(r2.summary)")
        }
        for obj in ["prog", "stress"] {
            let suffix = obj == "stress" ? ".o" : ""
            let a = try Child.run(nm, [dir.path + "/\(obj)-plain\(suffix)"], preload: false)
            let b = try Child.run(nm, [dir.path + "/\(obj)-pre\(suffix)"], preload: false)
            XCTAssertTrue(a.succeeded && !a.stdout.isEmpty, a.summary)
            XCTAssertEqual(a.stdout, b.stdout, "nm of \(obj) differs when gcc ran on libGoMalloc.so")
        }
        let objA = FileManager.default.contents(atPath: dir.path + "/stress-plain.o")
        let objB = FileManager.default.contents(atPath: dir.path + "/stress-pre.o")
        XCTAssertNotNil(objA)
        XCTAssertEqual(objA, objB, "gcc -c produced different object files")
        let runA = try Child.run(dir.path + "/prog-plain", [], preload: false)
        let runB = try Child.run(dir.path + "/prog-pre", [], preload: false)
        XCTAssertTrue(runA.succeeded && runA.stdout.hasPrefix("item-0 "), runA.summary)
        XCTAssertEqual(runA.stdout, runB.stdout)
    }

    func testGit() throws {
        guard let git = Child.which("git") else { throw XCTSkip("git is not installed") }
        var outputs: [String] = []
        for preload in [false, true] {
            let dir = try TempDir.make(preload ? "git-pre" : "git-plain")
            defer { dir.remove() }
            let repo = dir.path + "/repo"
            let env = [
                "HOME": dir.path, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
                "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
                "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
                "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z", "LC_ALL": "C", "TZ": "UTC",
            ]
            func g(_ args: [String]) throws -> String {
                let r = try preload ? runPreloaded(git, args, env: env, cwd: repo)
                                    : Child.run(git, args, preload: false, env: env, cwd: repo)
                XCTAssertTrue(r.succeeded, "git \(args) (preload \(preload)): \(r.summary)")
                return r.stdout
            }
            try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
            var log = try g(["init", "-q", "-b", "main", "."])
            for i in 0..<60 {
                try dir.write("repo/src/file\(i).txt", (0..<(i * 20)).map { "line \($0) of file \(i)" }.joined(separator: "\n"))
            }
            log += try g(["add", "."])
            log += try g(["commit", "-q", "-m", "first commit"])
            for i in stride(from: 0, to: 60, by: 3) {
                try dir.write("repo/src/file\(i).txt", "rewritten \(i)\n")
            }
            log += try g(["add", "-A"])
            log += try g(["commit", "-q", "-m", "second commit"])
            log += try g(["log", "--stat", "--format=%H %an <%ae> %ad %s", "--date=iso-strict"])
            log += try g(["diff", "HEAD~1", "--stat"])
            log += try g(["fsck", "--strict"])
            outputs.append(log)
        }
        XCTAssertTrue(outputs[0].contains("second commit") && outputs[0].contains("first commit"), outputs[0])
        XCTAssertEqual(outputs[0], outputs[1], "git output (including commit hashes) differs under libGoMalloc.so")
    }

    func testSQLite() throws {
        guard let sqlite = Child.which("sqlite3") else { throw XCTSkip("sqlite3 is not installed") }
        var outputs: [String] = []
        for preload in [false, true] {
            let dir = try TempDir.make(preload ? "sqlite-pre" : "sqlite-plain")
            defer { dir.remove() }
            var sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, tag TEXT);\nBEGIN;\n"
            for i in 0..<5000 {
                sql += "INSERT INTO t (name, score, tag) VALUES ('name-\(i)-\(String(repeating: "x", count: i % 97))', \(Double(i * 37 % 1000) / 7.0), 'tag\(i % 13)');\n"
            }
            sql += """
                COMMIT;
                CREATE INDEX t_tag ON t(tag, score);
                SELECT count(*), sum(length(name)), printf('%.3f', avg(score)) FROM t;
                SELECT tag, count(*), printf('%.2f', max(score)) FROM t GROUP BY tag ORDER BY tag;
                SELECT id, name FROM t WHERE tag = 'tag7' ORDER BY score DESC, id LIMIT 5;
                UPDATE t SET name = upper(name) WHERE id % 10 = 0;
                DELETE FROM t WHERE id % 7 = 0;
                VACUUM;
                SELECT count(*), group_concat(substr(name, 1, 8), ',') FROM (SELECT name FROM t ORDER BY id LIMIT 20);
                PRAGMA integrity_check;

                """
            try dir.write("script.sql", sql)
            let args = [dir.path + "/db.sqlite", ".read " + dir.path + "/script.sql"]
            let r = try preload ? runPreloaded(sqlite, args) : Child.run(sqlite, args, preload: false)
            XCTAssertTrue(r.succeeded && r.stderr.isEmpty, "sqlite3 (preload \(preload)): \(r.summary)")
            outputs.append(r.stdout)
        }
        XCTAssertTrue(outputs[0].hasPrefix("5000|"), outputs[0])
        XCTAssertTrue(outputs[0].hasSuffix("ok\n"), outputs[0])
        XCTAssertEqual(outputs[0], outputs[1], "sqlite3 output differs under libGoMalloc.so")
    }

    /// `swift build` of a tiny package, once on glibc's malloc and once on ours, into separate scratch paths; the
    /// two built programs print the same thing.
    func testSwiftBuild() throws {
        guard let swift = Child.which("swift") else { throw XCTSkip("swift is not on PATH") }
        let dir = try TempDir.make("swiftbuild")
        defer { dir.remove() }
        try dir.write("tiny/Package.swift", """
            // swift-tools-version:5.9
            import PackageDescription
            let package = Package(name: "tiny", targets: [.executableTarget(name: "tiny", path: "Sources")])
            """)
        try dir.write("tiny/Sources/main.swift", """
            struct Point: Hashable { var x: Int; var y: Int }
            var seen = Set<Point>()
            var words: [String: Int] = [:]
            for i in 0..<20_000 {
                seen.insert(Point(x: i % 97, y: i % 89))
                words["w\\(i % 1000)", default: 0] += i
            }
            let top = words.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(3)
            print(seen.count, top.map { "\\($0.key)=\\($0.value)" }.joined(separator: " "))
            """)
        let pkg = dir.path + "/tiny"
        var outputs: [String] = []
        for preload in [false, true] {
            let scratch = dir.path + (preload ? "/build-pre" : "/build-plain")
            let args = ["build", "--package-path", pkg, "--scratch-path", scratch, "--disable-sandbox"]
            // SwiftPM puts lock files in TMPDIR: keep them in the test's directory, which is removed.
            let env = ["TMPDIR": dir.path]
            let r = try preload ? runPreloaded(swift, args, env: env, timeout: 600)
                                : Child.run(swift, args, preload: false, env: env, timeout: 600)
            XCTAssertTrue(r.succeeded, "swift build (preload \(preload)): \(r.summary)")
            let run = try Child.run(scratch + "/debug/tiny", [], preload: false)
            XCTAssertTrue(run.succeeded, run.summary)
            outputs.append(run.stdout)
        }
        XCTAssertTrue(outputs[0].hasPrefix("8633 "), outputs[0])
        XCTAssertEqual(outputs[0], outputs[1], "the program built under libGoMalloc.so prints something else")
    }
}
