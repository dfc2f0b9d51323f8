import Foundation
import XCTest
@testable import GoLayout

/// `--fix` leaves alone, without `--force`, structs whose field order is an encoding: Swift `Codable` reached
/// through a refining protocol or a typealias, Go structs with struct tags or passed to encoding/binary (their
/// rewrite silently changed the JSON key order and the binary record layout).
final class FixWireFormatTests: XCTestCase {
    func refused(_ outcome: FieldReorder.Outcome) -> [String] {
        outcome.messages.filter { $0.contains("not reordering") }.compactMap {
            $0.components(separatedBy: "not reordering ").last?.components(separatedBy: ":").first
        }
    }

    func testCodableThroughAProtocolOrTypealiasIsRefused() throws {
        let dir = try makeTemporaryDirectory("codable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.swift").path
        try """
        protocol Model: Codable {}
        protocol Deeper: Model, Hashable {}
        typealias Record = Codable & Hashable
        struct ViaProtocol: Model {
            var a: Int8
            var b: Int64
            var c: Int8
            init(a: Int8, b: Int64, c: Int8) { self.a = a; self.b = b; self.c = c }
        }
        struct ViaAlias: Record {
            var a: Int8
            var b: Int64
            var c: Int8
            init(a: Int8, b: Int64, c: Int8) { self.a = a; self.b = b; self.c = c }
        }
        struct ViaDeeper: Deeper {
            var a: Int8
            var b: Int64
            var c: Int8
            init(a: Int8, b: Int64, c: Int8) { self.a = a; self.b = b; self.c = c }
        }
        struct Plain: Hashable {
            var a: Int8
            var b: Int64
            var c: Int8
            init(a: Int8, b: Int64, c: Int8) { self.a = a; self.b = b; self.c = c }
        }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let decls = try LayoutAnalyzer(model: .x86_64Linux).structs([path])
        let outcome = try FieldReorder.plan(decls, force: false)
        XCTAssertEqual(refused(outcome), ["ViaProtocol", "ViaAlias", "ViaDeeper"], "\(outcome.messages)")
        XCTAssertEqual(outcome.changedStructs, 1)
        XCTAssertEqual(try FieldReorder.plan(decls, force: true).changedStructs, 4)
    }

    func testGoStructTagsAndEncodingBinaryAreRefused() throws {
        let dir = try makeTemporaryDirectory("wire")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("main.go").path
        try """
        package main

        import (
        \t"bytes"
        \tbin "encoding/binary"
        \t"encoding/json"
        )

        type Header struct {
        \tVersion uint8
        \tLength  uint64
        \tFlags   uint8
        }

        type Trailer struct {
        \tA uint8
        \tB uint64
        \tC uint8
        }

        type Event struct {
        \tOK   bool
        \tID   int64 `json:"id"`
        \tSeen bool
        }

        type Plain struct {
        \tA uint8
        \tB uint64
        \tC uint8
        }

        func read(r *bytes.Reader) {
        \tvar h Header
        \tbin.Read(r, bin.LittleEndian, &h)
        \t_ = bin.Size(new(Trailer))
        \tout, _ := json.Marshal(Event{OK: true})
        \t_ = out
        }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let decls = try LayoutAnalyzer(model: .x86_64Linux).structs([path])
        let outcome = try FieldReorder.plan(decls, force: false)
        XCTAssertEqual(refused(outcome), ["Header", "Trailer", "Event"], "\(outcome.messages)")
        XCTAssertTrue(outcome.messages.contains { $0.contains("Event: field ID has a struct tag") }, "\(outcome.messages)")
        XCTAssertTrue(outcome.messages.contains { $0.contains("Header: it is passed to encoding/binary") }, "\(outcome.messages)")
        XCTAssertEqual(outcome.changedStructs, 1)
        XCTAssertEqual(try FieldReorder.plan(decls, force: true).changedStructs, 4)
    }
}
