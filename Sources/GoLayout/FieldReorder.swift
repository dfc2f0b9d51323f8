import Foundation

/// `--fix`: rewrites struct bodies so fields follow `optimalOrder`. Each field moves as a whole member with
/// its comments, doc comments, attributes and trailing comment; everything else in the body (methods, nested
/// types, computed properties, blank-line structure around them) stays where it was: the field *slots* keep
/// their places and only their contents are permuted.
///
/// Refused (with a warning) when reordering would change something other than layout: `@frozen` (ABI),
/// a synthesized `Codable` (encoded key order), a Go struct with struct tags or passed to encoding/binary
/// (GoWireFormat), or the implicit memberwise initializer (argument order) — all but the first unless forced; also when a declaration holds several fields or a field is inside `#if`.
public enum FieldReorder {
    public struct Outcome: Sendable {
        /// New contents per file that changed.
        public var rewritten: [String: String] = [:]
        /// `file:line:col: warning: ...` lines for structs left alone, and notes for those changed.
        public var messages: [String] = []
        public var changedStructs = 0
        /// What each reordered struct should look like after the rewrite, for `verify`.
        public var claims: [Claim] = []
    }

    /// A reordered struct's promised result: its fields (by declaration index before the rewrite) in the new
    /// order, and the layout that order has with the fields' current layouts.
    public struct Claim: Sendable {
        public var file: String
        public var name: String
        /// Which of the structs named `name` in `file` (Go local types may repeat a name).
        public var occurrence: Int
        public var fields: [(name: String, type: String, size: Int, alignment: Int)]
        public var size: Int
        public var stride: Int
        /// The stride before the rewrite: an upper bound when a nested reordered struct changed a field.
        public var oldStride: Int
    }

    public static func plan(_ decls: [StructDecl], force: Bool) throws -> Outcome {
        var outcome = Outcome()
        var editsByFile: [String: [(Range<Int>, String)]] = [:]
        var sources: [String: [UInt8]] = [:]
        var occurrences: [String: Int] = [:]
        for decl in decls {
            let occurrence = occurrences["\(decl.file)\u{0}\(decl.name)", default: 0]
            occurrences["\(decl.file)\u{0}\(decl.name)"] = occurrence + 1
            let report = StructReport(decl)
            guard report.isFinding, let stride = report.stride else { continue }
            let layouts = decl.fields.map { $0.resolved.layout! }
            // Indices, not names: Go's blank fields `_` may repeat.
            let best = OptimalOrder.best(layouts, language: decl.language)
            let order = best.order
            let here = "\(decl.file):\(decl.line):\(decl.column)"
            func refuse(_ why: String) { outcome.messages.append("\(here): warning: not reordering \(decl.name): \(why)") }
            if decl.traits.isFrozen { refuse("it is @frozen; its layout is ABI"); continue }
            if let blocker = decl.traits.fixBlocker { refuse("it \(blocker)"); continue }
            if Set(decl.fields.map(\.line)).count < decl.fields.count {
                refuse("it declares several fields on one line"); continue
            }
            if decl.language == .swift && decl.traits.isCodable && !force {
                refuse("it is Codable; synthesized coding keys would change order (use --force to reorder anyway)"); continue
            }
            if let why = decl.traits.wireFormat, !force {
                refuse("\(why) (use --force to reorder anyway)"); continue
            }
            if decl.language == .swift && decl.traits.hasMemberwiseInit && !force {
                refuse("its memberwise initializer's argument order would change (use --force, then fix call sites)"); continue
            }
            if sources[decl.file] == nil { sources[decl.file] = Array(try LayoutAnalyzer.readSource(decl.file).utf8) }
            let bytes = sources[decl.file]!
            let slots = decl.fields.map { f -> Range<Int> in
                decl.language == .go ? wholeLines(f.sourceRange!, in: bytes) : f.sourceRange!
            }
            let sortedSlots = slots.sorted { $0.lowerBound < $1.lowerBound }
            if decl.language == .go, let body = decl.bodyRange,
               sortedSlots.first!.lowerBound < body.lowerBound || sortedSlots.last!.upperBound > body.upperBound
                || zip(sortedSlots, sortedSlots.dropFirst()).contains(where: { $0.upperBound > $1.lowerBound }) {
                refuse("a field shares a line with a brace or another field"); continue
            }
            for (slot, field) in zip(sortedSlots, order) {
                var text = String(decoding: bytes[slots[field]], as: UTF8.self)
                // Swift: the first member's leading trivia may lack the newline others carry (or vice versa);
                // keep each slot's own leading line break.
                if decl.language == .swift {
                    let slotText = String(decoding: bytes[slot], as: UTF8.self)
                    text = leadingBreak(of: slotText) + String(text.drop { $0 == "\n" || $0 == "\r" })
                }
                editsByFile[decl.file, default: []].append((slot, text))
            }
            if decl.language == .go {
                outcome.messages.append("\(here): note: reordered \(decl.name); positional literals \(decl.name){...} must follow the new order")
            } else if force && (decl.traits.hasMemberwiseInit || decl.traits.isCodable) {
                outcome.messages.append("\(here): warning: reordered \(decl.name); memberwise init / Codable key order changed")
            }
            outcome.changedStructs += 1
            outcome.claims.append(Claim(
                file: decl.file, name: decl.name, occurrence: occurrence,
                fields: order.map { (decl.fields[$0].name, decl.fields[$0].typeText, layouts[$0].size, layouts[$0].alignment) },
                size: best.placement.size, stride: best.placement.stride, oldStride: stride))
        }
        for (file, edits) in editsByFile {
            var bytes = sources[file]!
            for (range, text) in edits.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
                bytes.replaceSubrange(range, with: Array(text.utf8))
            }
            outcome.rewritten[file] = String(decoding: bytes, as: UTF8.self)
        }
        return outcome
    }

    private static func leadingBreak(of s: String) -> String { String(s.prefix { $0 == "\n" || $0 == "\r" }) }

    /// Go: the field's full lines, plus the comments directly above it: `//` lines and `/* ... */` blocks
    /// that stand on their own lines (possibly spanning several).
    static func wholeLines(_ r: Range<Int>, in b: [UInt8]) -> Range<Int> {
        let space: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        func lineStart(_ i: Int) -> Int {
            var s = i
            while s > 0 && b[s - 1] != UInt8(ascii: "\n") { s -= 1 }
            return s
        }
        var start = lineStart(r.lowerBound)
        var end = r.upperBound
        while end < b.count && b[end] != UInt8(ascii: "\n") { end += 1 }
        while start > 0 {
            let previous = lineStart(start - 1)
            let line = b[previous..<(start - 1)]
            let text = line.drop(while: space)
            if text.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) { start = previous; continue }
            // A block comment ending this line: it must open at the start of a line (only blanks before).
            var last = line.endIndex
            while last > line.startIndex && space(b[last - 1]) { last -= 1 }
            guard last - line.startIndex >= 2, b[last - 2] == UInt8(ascii: "*"), b[last - 1] == UInt8(ascii: "/") else { break }
            var open = last - 2
            while open > 0 && !(b[open - 1] == UInt8(ascii: "/") && b[open] == UInt8(ascii: "*")) { open -= 1 }
            guard open > 0 else { break }
            let openLine = lineStart(open - 1)
            guard b[openLine..<(open - 1)].allSatisfy(space) else { break }
            start = openLine
        }
        return start..<end
    }
}
