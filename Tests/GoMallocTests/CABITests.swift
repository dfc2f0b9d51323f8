// C ABI semantics of libGoMalloc.so (c/abi.h), one check per test, each in its own preloaded child process.
// The same program passes under glibc's malloc (testChecksHoldForGlibc), so a failure here is the allocator's.
import XCTest

final class CABITests: XCTestCase {
    /// Runs `abi CHECK` under the preload and expects "ok CHECK" and exit 0.
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Child.run(try CProgram.path("abi"), [name], preload: true, env: ["GOMALLOC_EXPECT": "1"],
                              timeout: 60)
        XCTAssertTrue(r.succeeded && r.stdout.contains("ok \(name)\n"),
                      "abi \(name) under libGoMalloc.so:\n\(r.summary)", file: file, line: line)
    }

    func testAlignment16ForRequestsOf16OrMore() throws { try check("alignment") }
    func testMallocZeroIsUniqueAndNonNull() throws { try check("malloc0") }
    func testCallocZeroesAndDetectsOverflow() throws { try check("calloc") }
    func testHugeRequestsFailWithENOMEM() throws { try check("huge") }
    func testReallocKeepsContents() throws { try check("realloc") }
    func testReallocarrayOverflow() throws { try check("reallocarray") }
    func testPosixMemalign() throws { try check("posix_memalign") }
    func testAlignmentsBeyondAnArena() throws { try check("huge_alignment") }
    func testAlignedAllocAndMemalign() throws { try check("aligned_alloc") }
    func testVallocAndPvallocArePageAligned() throws { try check("valloc") }
    func testMallocUsableSize() throws { try check("usable_size") }
    func testFreeNullIsANoOp() throws { try check("free_null") }
    func testFreeAsAThreadsFirstCall() throws { try check("first_call_free") }
    func testForkInAMultiThreadedProgram() throws { try check("fork") }
    func testManyThreadsWithFewBlocksShareSpans() throws { try check("many_threads") }

    /// Under `ulimit -v 400000` (RLIMIT_AS, set by a shell that then execs the check, so the heap is made under
    /// it), malloc works until it fails with ENOMEM.
    func testAddressSpaceLimit() throws {
        let abi = try CProgram.path("abi")
        let r = try Child.run("/bin/sh", ["-c", "ulimit -v 400000 && exec \"$0\" address_limit", abi], preload: true,
                              env: ["GOMALLOC_EXPECT": "1"], timeout: 60)
        XCTAssertTrue(r.succeeded && r.stdout.contains("ok address_limit\n"), "under ulimit -v 400000:\n\(r.summary)")
    }

    /// The checks themselves are right: glibc's malloc passes every one of them.
    func testChecksHoldForGlibc() throws {
        let r = try Child.run(try CProgram.path("abi"), ["all"], preload: false, timeout: 120)
        XCTAssertTrue(r.succeeded, "abi all under glibc:\n\(r.summary)")
    }
}
