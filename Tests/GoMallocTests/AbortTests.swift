// Invalid frees and reallocs abort (SIGABRT) with one line naming the call and the pointer (c/abort.h), each in a
// child process: `gomalloc: fatal error: free(0x...): double free`.
import Foundation
import XCTest

final class AbortTests: XCTestCase {
    /// Runs `abort CASE` under the preload and checks: killed by SIGABRT, and exactly one stderr line
    /// `gomalloc: fatal error: CALL(PTR): MESSAGE` where PTR is the pointer the program announced.
    private func expectAbort(_ name: String, call: String, messageContains: [String] = [],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Child.run(try CProgram.path("abort"), [name], preload: true, timeout: 60)
        XCTAssertEqual(r.signal, SIGABRT, "\(name): want death by SIGABRT:\n\(r.summary)", file: file, line: line)
        XCTAssertFalse(r.stdout.contains("survived"), "\(name): the bad call returned:\n\(r.summary)", file: file, line: line)
        guard let announced = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("ptr=") })?.dropFirst(4)
        else { return XCTFail("\(name): no ptr= line:\n\(r.summary)", file: file, line: line) }
        let fatalLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("gomalloc: fatal error: ") }
        XCTAssertEqual(fatalLines.count, 1, "\(name): want exactly one fatal line:\n\(r.summary)", file: file, line: line)
        guard let fatal = fatalLines.first else { return }
        let prefix = "gomalloc: fatal error: \(call)(\(announced)): "
        XCTAssertTrue(fatal.hasPrefix(prefix), "\(name): want a line starting \"\(prefix)\", got \"\(fatal)\"",
                      file: file, line: line)
        let message = fatal.dropFirst(prefix.count)
        XCTAssertFalse(message.isEmpty, "\(name): empty message", file: file, line: line)
        if !messageContains.isEmpty {
            XCTAssertTrue(messageContains.contains { message.contains($0) },
                          "\(name): message \"\(message)\" names none of \(messageContains)", file: file, line: line)
        }
    }

    func testFreeOfStackPointer() throws { try expectAbort("free-stack", call: "free") }
    func testFreeOfWildPointer() throws { try expectAbort("free-wild", call: "free") }
    func testFreeOfInteriorPointer() throws { try expectAbort("free-interior", call: "free") }
    /// A thread's first call is the bad free (its TLS slot still holds the empty MCache: Sentinels.swift).
    func testBadFreeAsAThreadsFirstCall() throws {
        try expectAbort("free-wild-new-thread", call: "free")
        try expectAbort("free-interior-new-thread", call: "free")
    }
    func testFreeOfInteriorPointerOfLargeObject() throws { try expectAbort("free-interior-large", call: "free") }
    func testDoubleFreeSameThread() throws {
        try expectAbort("double-free", call: "free", messageContains: ["double free"])
    }
    func testDoubleFreeOfLargeObject() throws {
        try expectAbort("double-free-large", call: "free", messageContains: ["double free", "already freed"])
    }
    func testDoubleFreeByAnotherThreadAfterOwnerFreed() throws {
        try expectAbort("double-free-other-thread", call: "free", messageContains: ["double free"])
    }
    func testDoubleFreeBothRemote() throws {
        try expectAbort("double-free-remote-twice", call: "free", messageContains: ["double free"])
    }
    func testDoubleFreeRemoteThenOwner() throws {
        try expectAbort("double-free-remote-then-owner", call: "free", messageContains: ["double free"])
    }
    func testReallocOfBogusPointer() throws { try expectAbort("realloc-bogus", call: "realloc") }
    func testReallocOfStackPointer() throws { try expectAbort("realloc-stack", call: "realloc") }
    func testReallocOfInteriorPointer() throws { try expectAbort("realloc-interior", call: "realloc") }
    func testReallocOfFreedLargeObject() throws { try expectAbort("realloc-freed", call: "realloc") }
}
