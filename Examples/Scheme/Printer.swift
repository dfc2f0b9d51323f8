// Printing values (display and write) and the buffered standard output.
#if canImport(Glibc)
import Glibc
#endif
import GoGC

/// Standard output, buffered; flushed when large, before anything goes to stderr, and at exit.
struct OutputBuffer {
    var bytes: [UInt8] = []

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func append(_ b: UInt8) { bytes.append(b) }
    mutating func flushIfLarge() { if bytes.count >= 1 << 16 { flush() } }
    mutating func flush() {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            off += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

extension Interp {
    /// `write` form of a value, as a Swift string (error messages, the REPL).
    func show(_ v: V) -> String {
        var b: [UInt8] = []
        render(v, display: false, into: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Appends the external representation of `v`. `display`: strings and characters without quotes.
    /// Lists are walked iteratively along cdrs; nesting in cars recurses (up to a depth limit).
    func render(_ v: V, display: Bool, into out: inout [UInt8], depth: Int = 0) {
        guard let r = v else { out.append(contentsOf: "()".utf8); return }
        if depth > 10_000 { out.append(contentsOf: "...".utf8); return }
        switch r.tag {
        case .int: out.append(contentsOf: String(r.word1).utf8)
        case .bool: out.append(contentsOf: (r.word1 != 0 ? "#t" : "#f").utf8)
        case .unspecified: break
        case .symbol: out.append(contentsOf: symbolName(r).utf8)
        case .string:
            let bytes = stringBytes(r)
            if display { out.append(contentsOf: bytes); return }
            out.append(UInt8(ascii: "\""))
            for c in bytes {
                switch c {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case 10: out.append(contentsOf: "\\n".utf8)
                case 9: out.append(contentsOf: "\\t".utf8)
                default: out.append(c)
                }
            }
            out.append(UInt8(ascii: "\""))
        case .char:
            let c = Unicode.Scalar(UInt32(r.word1)) ?? "?"
            if display { out.append(contentsOf: String(Character(c)).utf8); return }
            switch c {
            case " ": out.append(contentsOf: "#\\space".utf8)
            case "\n": out.append(contentsOf: "#\\newline".utf8)
            case "\t": out.append(contentsOf: "#\\tab".utf8)
            default: out.append(contentsOf: "#\\\(Character(c))".utf8)
            }
        case .pair:
            if let q = quoteAbbreviation(r) {
                out.append(contentsOf: q.utf8)
                render(first(rest(r)!), display: display, into: &out, depth: depth + 1)
                return
            }
            out.append(UInt8(ascii: "("))
            var p: Ref<Obj> = r
            while true {
                render(first(p), display: display, into: &out, depth: depth + 1)
                guard let next = rest(p) else { break }
                if next.tag != .pair {
                    out.append(contentsOf: " . ".utf8)
                    render(next, display: display, into: &out, depth: depth + 1)
                    break
                }
                out.append(UInt8(ascii: " "))
                p = next
            }
            out.append(UInt8(ascii: ")"))
        case .vector:
            out.append(contentsOf: "#(".utf8)
            let items = m.load(r, F.b)!.cast(to: RefArray<Obj>.self)
            for i in 0..<r.word1 {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                render(m.load(items, i), display: display, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: ")"))
        case .closure:
            let name = m.load(r, F.d).map { symbolName($0) }
            out.append(contentsOf: (name.map { "#<procedure \($0)>" } ?? "#<procedure>").utf8)
        case .primitive: out.append(contentsOf: "#<primitive \(primitives[r.word1].name)>".utf8)
        case .frame: out.append(contentsOf: "#<environment>".utf8)
        }
    }

    /// 'x, `x, ,x and ,@x for two-element lists headed by quote and friends.
    private func quoteAbbreviation(_ p: Ref<Obj>) -> String? {
        guard let r = rest(p), r.tag == .pair, rest(r) == nil else { return nil }
        let h = first(p)
        if h == sym.quote { return "'" }
        if h == sym.quasiquote { return "`" }
        if h == sym.unquote { return "," }
        if h == sym.unquoteSplicing { return ",@" }
        return nil
    }
}
