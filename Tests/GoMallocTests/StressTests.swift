// Multi-threaded stress under the preload (c/stress.h): fixed seeds, cross-thread frees through a shared queue,
// patterns checked before every free, sizes 0 to 6 MiB, realloc chains. A few seconds; GORT_SOAK=1: ten times
// longer. Not a benchmark.
import XCTest

final class StressTests: XCTestCase {
    private func stress(threads: Int, rounds: Int, seed: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Child.run(try CProgram.path("stress"), ["\(threads)", "\(rounds * soakFactor)", "\(seed)"],
                              preload: true, timeout: 600)
        XCTAssertTrue(r.succeeded && r.stdout.hasPrefix("ok threads=\(threads)"),
                      "stress \(threads) threads, seed \(seed):\n\(r.summary)", file: file, line: line)
    }

    func testFourThreads() throws { try stress(threads: 4, rounds: 25_000, seed: 1) }
    func testEightThreads() throws { try stress(threads: 8, rounds: 8_000, seed: 2) }
}
