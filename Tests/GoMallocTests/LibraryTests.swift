// libGoMalloc.so itself: an Embedded Swift build that brings no Swift runtime into the process it is preloaded
// into (see Sources/GoMalloc/ExitReport.swift), and exports only the C allocation ABI.
import Foundation
import XCTest

final class LibraryTests: XCTestCase {
    func testNeedsNothingButLibc() throws {
        let lib = try GoMallocLibrary.path()
        let r = try Child.run("/usr/bin/readelf", ["-d", "-W", lib], preload: false)
        XCTAssertTrue(r.succeeded, r.summary)
        let needed = r.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        XCTAssertFalse(needed.isEmpty, "readelf found no NEEDED entries:\n\(r.stdout)")
        for line in needed {
            XCTAssertTrue(line.contains("[libc.so.6]") || line.contains("[ld-linux"),
                          "libGoMalloc.so depends on more than libc: \(line)")
        }
    }

    /// A main thread that ends with pthread_exit: the process ends with status 0 once its other thread has, the
    /// atexit handlers and the MemStats report run, and our background scavenger thread does not keep it alive
    /// (it did: the process hung). c/pthread_exit.h allocates enough to start that thread.
    func testProcessEndsWhenMainThreadCallsPthreadExit() throws {
        let dir = try TempDir.make("pexit")
        defer { dir.remove() }
        let r = try Child.run(try CProgram.path("pthread_exit"), [], preload: true,
                              env: ["GOMALLOC_STATS": dir.path + "/s.json"], timeout: 30)
        XCTAssertFalse(r.timedOut, "the process did not end: " + r.summary)
        XCTAssertTrue(r.succeeded, r.summary)
        XCTAssertEqual(r.stdout, "worker done\natexit ran\n", r.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path + "/s.json"), "no MemStats written at exit")
        let plain = try Child.run(try CProgram.path("pthread_exit"), [], preload: true,
                                  env: ["GODEBUG": "bgscavenge=0"], timeout: 30)
        XCTAssertTrue(plain.succeeded && plain.stdout == "worker done\natexit ran\n", plain.summary)
    }

    func testExportsOnlyTheCABI() throws {
        let lib = try GoMallocLibrary.path()
        let r = try Child.run("/usr/bin/readelf", ["--dyn-syms", "-W", lib], preload: false)
        XCTAssertTrue(r.succeeded, r.summary)
        // Num: Value Size Type Bind Vis Ndx Name. Exported = defined (Ndx not UND) with GLOBAL or WEAK binding.
        let names = r.stdout.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, f[4] == "GLOBAL" || f[4] == "WEAK", f[6] != "UND" else { return nil }
            return String(f[7].split(separator: "@").first!)
        }
        let cNames: Set<String> = ["malloc", "free", "cfree", "calloc", "realloc", "reallocarray", "posix_memalign",
                                   "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size", "malloc_trim"]
        XCTAssertTrue(cNames.isSubset(of: Set(names)), "missing C names: \(cNames.subtracting(names))")
        for n in names where !cNames.contains(n) {
            XCTAssertTrue(n.hasPrefix("gomalloc_") || n.hasPrefix("gort_tls_"), "unexpected export \(n)")
        }
    }

    /// A non-PIE program that takes malloc's and free's addresses (as gcc's cc1 does), preloaded and linked
    /// directly: it runs, says nothing on stderr (glibc warns about protected functions whose address such a
    /// program takes) and calls through the pointers (an untyped `free` would get a copy relocation and crash).
    func testNonPIEProgramTakingMallocsAddress() throws {
        guard let gcc = Child.which("gcc") else { throw XCTSkip("gcc is not on PATH") }
        let lib = try GoMallocLibrary.path()
        let dir = try TempDir.make("nonpie")
        defer { dir.remove() }
        try dir.write("fp.c", """
            #include <stdio.h>
            #include <stdlib.h>
            void *(*volatile fp)(size_t) = malloc;
            void (*volatile ff)(void *) = free;
            int main(void) {
                void *p = fp(24);
                if (!p) return 1;
                ff(p);
                printf("ok %d\\n", fp == malloc && ff == free);
                return 0;
            }
            """)
        let libDir = (lib as NSString).deletingLastPathComponent
        let plain = dir.path + "/fp", linked = dir.path + "/fp-linked"
        var r = try Child.run(gcc, ["-O2", "-no-pie", "-fno-pic", "-o", plain, dir.path + "/fp.c"], preload: false)
        XCTAssertTrue(r.succeeded, r.summary)
        r = try Child.run(gcc, ["-O2", "-no-pie", "-fno-pic", "-o", linked, dir.path + "/fp.c", "-L" + libDir,
                                "-lGoMalloc", "-Wl,-rpath," + libDir], preload: false)
        XCTAssertTrue(r.succeeded && r.stderr.isEmpty, "linking against libGoMalloc.so: \(r.summary)")
        for (exe, preload) in [(plain, true), (linked, false)] {
            let run = try Child.run(exe, [], preload: preload)
            XCTAssertTrue(run.succeeded && run.stdout == "ok 1\n", "\(exe): \(run.summary)")
            XCTAssertEqual(run.stderr, "", "\(exe) wrote to stderr")
        }
    }
}
