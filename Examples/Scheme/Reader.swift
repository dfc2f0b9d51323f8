// The reader: source text to heap values, one datum at a time. It allocates but never reaches a safepoint,
// so the values it builds may sit in Swift locals until the datum is complete.
import GoGC

struct Reader {
    let text: [UInt8]
    var pos = 0
    var line = 1

    init(_ source: String) { text = Array(source.utf8) }

    /// The next datum, or nil at the end of the text. (A datum that is the empty list reads as `.some(nil)`.)
    mutating func next(_ i: Interp) throws -> V? {
        skipSpace()
        if pos >= text.count { return .none }
        return .some(try datum(i))
    }

    private mutating func skipSpace() {
        while pos < text.count {
            let c = text[pos]
            if c == UInt8(ascii: ";") {
                while pos < text.count && text[pos] != 10 { pos += 1 }
            } else if c == UInt8(ascii: "#") && pos + 1 < text.count && text[pos + 1] == UInt8(ascii: "|") {
                pos += 2
                while pos + 1 < text.count && !(text[pos] == UInt8(ascii: "|") && text[pos + 1] == UInt8(ascii: "#")) {
                    if text[pos] == 10 { line += 1 }
                    pos += 1
                }
                pos += 2
            } else if c == 10 || c == 13 || c == 32 || c == 9 || c == 12 {
                if c == 10 { line += 1 }
                pos += 1
            } else {
                return
            }
        }
    }

    private func error(_ msg: String) -> SchemeError { SchemeError(message: "read error, line \(line): \(msg)") }

    private mutating func datum(_ i: Interp) throws -> V {
        skipSpace()
        guard pos < text.count else { throw error("unexpected end of input") }
        let c = text[pos]
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: "["):
            pos += 1
            return try listTail(i, close: c == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]"))
        case UInt8(ascii: ")"), UInt8(ascii: "]"):
            throw error("unexpected '\(Character(Unicode.Scalar(c)))'")
        case UInt8(ascii: "'"): pos += 1; return i.list([i.sym.quote, try datum(i)])
        case UInt8(ascii: "`"): pos += 1; return i.list([i.sym.quasiquote, try datum(i)])
        case UInt8(ascii: ","):
            pos += 1
            if pos < text.count && text[pos] == UInt8(ascii: "@") {
                pos += 1
                return i.list([i.sym.unquoteSplicing, try datum(i)])
            }
            return i.list([i.sym.unquote, try datum(i)])
        case UInt8(ascii: "\""): return try string(i)
        case UInt8(ascii: "#"): return try hash(i)
        default: return try atom(i)
        }
    }

    private mutating func listTail(_ i: Interp, close: UInt8) throws -> V {
        var items: [V] = []
        var tail: V = nil
        while true {
            skipSpace()
            guard pos < text.count else { throw error("missing '\(Character(Unicode.Scalar(close)))'") }
            if text[pos] == close { pos += 1; break }
            if text[pos] == UInt8(ascii: ".") && pos + 1 < text.count && isDelimiter(text[pos + 1]) && !items.isEmpty {
                pos += 1
                tail = try datum(i)
                skipSpace()
                guard pos < text.count, text[pos] == close else { throw error("bad dotted list") }
                pos += 1
                break
            }
            items.append(try datum(i))
        }
        var l = tail
        for x in items.reversed() { l = i.cons(x, l) }
        return l
    }

    private func isDelimiter(_ c: UInt8) -> Bool {
        c == 32 || c == 10 || c == 9 || c == 13 || c == UInt8(ascii: "(") || c == UInt8(ascii: ")")
            || c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "\"") || c == UInt8(ascii: ";")
    }

    private mutating func token() -> String {
        let start = pos
        while pos < text.count && !isDelimiter(text[pos]) { pos += 1 }
        return String(decoding: text[start..<pos], as: UTF8.self)
    }

    private mutating func string(_ i: Interp) throws -> V {
        pos += 1
        var bytes: [UInt8] = []
        while true {
            guard pos < text.count else { throw error("unterminated string") }
            let c = text[pos]
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            if c == 10 { line += 1 }
            if c == UInt8(ascii: "\\") {
                guard pos < text.count else { throw error("unterminated string") }
                let e = text[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "0"): bytes.append(0)
                default: bytes.append(e)
                }
            } else {
                bytes.append(c)
            }
        }
        return i.string(bytes)
    }

    private mutating func hash(_ i: Interp) throws -> V {
        guard pos + 1 < text.count else { throw error("bad #") }
        let c = text[pos + 1]
        if c == UInt8(ascii: "(") {
            pos += 2
            let items = try i.listToArray(try listTail(i, close: UInt8(ascii: ")")))
            let v = i.vector(count: items.count, fill: nil)
            let arr = i.m.load(v, F.b)!.cast(to: RefArray<Obj>.self)
            for (k, x) in items.enumerated() { i.m.store(arr, k, x) }
            return v
        }
        if c == UInt8(ascii: "\\") {
            pos += 2
            let start = pos
            // One character, or a name (space, newline, ...) made of letters.
            if pos < text.count { pos += 1 }
            while pos < text.count && !isDelimiter(text[pos]) { pos += 1 }
            let name = String(decoding: text[start..<pos], as: UTF8.self)
            let named: [String: Unicode.Scalar] = ["space": " ", "newline": "\n", "tab": "\t", "nul": "\0", "return": "\r"]
            if let s = named[name] { return i.char(s) }
            guard name.unicodeScalars.count == 1 else { throw error("unknown character #\\\(name)") }
            return i.char(name.unicodeScalars.first!)
        }
        let t = token()
        switch t {
        case "#t", "#true": return i.trueV
        case "#f", "#false": return i.falseV
        default: throw error("unknown syntax \(t)")
        }
    }

    private mutating func atom(_ i: Interp) throws -> V {
        let t = token()
        if let n = Int(t) { return i.int(n) }
        if t.isEmpty { throw error("unexpected character") }
        return i.symbol(t)
    }
}
