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
}
