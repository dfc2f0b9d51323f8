// Primitive procedures written in Swift. A primitive may allocate but never reaches a safepoint (except
// `collect-garbage`, which the evaluator calls with nothing live outside its slots), so it can keep Refs in
// locals. Procedures that call back into Scheme (map, for-each, ...) are in the prelude instead.
#if canImport(Glibc)
import Glibc
#endif
import GoGC

/// A primitive's arguments: the evaluated argument list and its length (checked against the arity).
struct Args {
    let list: V
    let count: Int
    /// Argument `i` (walks the list: primitives take few arguments).
    subscript(i: Int) -> V {
        var p = list!
        for _ in 0..<i { p = Ref(word: gcLoadWord(p, 16))! }
        return Ref(word: gcLoadWord(p, 8))
    }
    /// Every argument, in order.
    func forEach(_ body: (V) throws -> Void) rethrows {
        var p = list
        while let q = p {
            try body(Ref(word: gcLoadWord(q, 8)))
            p = Ref(word: gcLoadWord(q, 16))
        }
    }
}

/// A reference word of an object (no barrier is needed to read).
@inline(__always) func gcLoadWord(_ r: Ref<Obj>, _ offset: Int) -> UInt { r.raw.load(fromByteOffset: offset, as: UInt.self) }

struct Primitive {
    enum Kind { case normal, apply, collect }
    let name: String
    let minArgs: Int
    /// -1: any number.
    let maxArgs: Int
    let kind: Kind
    let fn: (Interp, Args) throws -> V
}

extension Interp {
    func primitive(_ name: String, _ minArgs: Int, _ maxArgs: Int, kind: Primitive.Kind = .normal,
                   _ fn: @escaping (Interp, Args) throws -> V) {
        let index = primitives.count
        primitives.append(Primitive(name: name, minArgs: minArgs, maxArgs: maxArgs, kind: kind, fn: fn))
        let p = m.new(layouts.scalar, as: Obj.self)
        p[scalar: F.tag] = Tag.primitive.rawValue
        p[scalar: F.word1] = index
        defineGlobal(symbol(name), p)
    }

    func fail(_ who: String, _ what: String, _ v: V) -> SchemeError {
        SchemeError(message: "\(who): \(what): \(show(v))")
    }

    func checked(_ r: (partialValue: Int, overflow: Bool), _ who: String) throws -> Int {
        if r.overflow { throw SchemeError(message: "\(who): integer overflow") }
        return r.partialValue
    }

    func installPrimitives() {
        installNumbers()
        installLists()
        installStrings()
        installVectorsAndMisc()
    }

    private func installNumbers() {
        primitive("+", 0, -1) { i, a in
            var s = 0
            try a.forEach { s = try i.checked(s.addingReportingOverflow(try i.intValue($0, "+")), "+") }
            return i.int(s)
        }
        primitive("*", 0, -1) { i, a in
            var s = 1
            try a.forEach { s = try i.checked(s.multipliedReportingOverflow(by: try i.intValue($0, "*")), "*") }
            return i.int(s)
        }
        primitive("-", 1, -1) { i, a in
            let x = try i.intValue(a[0], "-")
            if a.count == 1 { return i.int(try i.checked((0).subtractingReportingOverflow(x), "-")) }
            var s = x, first = true
            try a.forEach { v in
                if first { first = false; return }
                s = try i.checked(s.subtractingReportingOverflow(try i.intValue(v, "-")), "-")
            }
            return i.int(s)
        }
        func division(_ name: String, _ op: @escaping (Int, Int) -> Int) {
            primitive(name, 2, 2) { i, a in
                let x = try i.intValue(a[0], name), y = try i.intValue(a[1], name)
                if y == 0 { throw SchemeError(message: "\(name): division by zero") }
                if x == Int.min && y == -1 { throw SchemeError(message: "\(name): integer overflow") }
                return i.int(op(x, y))
            }
        }
        division("quotient") { $0 / $1 }
        division("remainder") { $0 % $1 }
        division("modulo") { x, y in let r = x % y; return r != 0 && (r < 0) != (y < 0) ? r + y : r }
        func compare(_ name: String, _ op: @escaping (Int, Int) -> Bool) {
            primitive(name, 1, -1) { i, a in
                var prev: Int? = nil, ok = true
                try a.forEach { v in
                    let x = try i.intValue(v, name)
                    if let p = prev, !op(p, x) { ok = false }
                    prev = x
                }
                return i.bool(ok)
            }
        }
        compare("=", ==); compare("<", <); compare(">", >); compare("<=", <=); compare(">=", >=)
        primitive("abs", 1, 1) { i, a in
            let x = try i.intValue(a[0], "abs")
            if x == Int.min { throw SchemeError(message: "abs: integer overflow") }
            return i.int(abs(x))
        }
        primitive("min", 1, -1) { i, a in var r = Int.max; try a.forEach { r = min(r, try i.intValue($0, "min")) }; return i.int(r) }
        primitive("max", 1, -1) { i, a in var r = Int.min; try a.forEach { r = max(r, try i.intValue($0, "max")) }; return i.int(r) }
        primitive("expt", 2, 2) { i, a in
            let base = try i.intValue(a[0], "expt"), e = try i.intValue(a[1], "expt")
            if e < 0 { throw SchemeError(message: "expt: negative exponent") }
            var r = 1
            for _ in 0..<e { r = try i.checked(r.multipliedReportingOverflow(by: base), "expt") }
            return i.int(r)
        }
        primitive("number?", 1, 1) { i, a in i.bool(a[0]?.tag == .int) }
        primitive("integer?", 1, 1) { i, a in i.bool(a[0]?.tag == .int) }
        primitive("zero?", 1, 1) { i, a in i.bool(try i.intValue(a[0], "zero?") == 0) }
        primitive("positive?", 1, 1) { i, a in i.bool(try i.intValue(a[0], "positive?") > 0) }
        primitive("negative?", 1, 1) { i, a in i.bool(try i.intValue(a[0], "negative?") < 0) }
        primitive("even?", 1, 1) { i, a in i.bool(try i.intValue(a[0], "even?") & 1 == 0) }
        primitive("odd?", 1, 1) { i, a in i.bool(try i.intValue(a[0], "odd?") & 1 != 0) }
        primitive("number->string", 1, 2) { i, a in
            let radix = a.count > 1 ? try i.intValue(a[1], "number->string") : 10
            return i.string(String(try i.intValue(a[0], "number->string"), radix: radix))
        }
        primitive("string->number", 1, 2) { i, a in
            guard let s = a[0], s.tag == .string else { throw i.fail("string->number", "not a string", a[0]) }
            let radix = a.count > 1 ? try i.intValue(a[1], "string->number") : 10
            return Int(i.swiftString(s), radix: radix).map { i.int($0) } ?? i.falseV
        }
    }

    private func installLists() {
        primitive("cons", 2, 2) { i, a in i.cons(a[0], a[1]) }
        primitive("car", 1, 1) { i, a in try i.car(a[0]) }
        primitive("cdr", 1, 1) { i, a in try i.cdr(a[0]) }
        for path in ["aa", "ad", "da", "dd", "aad", "add", "ddd", "addd", "dda", "ada"] {
            primitive("c\(path)r", 1, 1) { i, a in
                var v = a[0]
                for c in path.reversed() { v = c == "a" ? try i.car(v) : try i.cdr(v) }
                return v
            }
        }
        primitive("set-car!", 2, 2) { i, a in
            guard let p = a[0], p.tag == .pair else { throw i.fail("set-car!", "not a pair", a[0]) }
            i.m.store(p, F.a, a[1]); return i.unspec
        }
        primitive("set-cdr!", 2, 2) { i, a in
            guard let p = a[0], p.tag == .pair else { throw i.fail("set-cdr!", "not a pair", a[0]) }
            i.m.store(p, F.b, a[1]); return i.unspec
        }
        primitive("list", 0, -1) { _, a in a.list }
        primitive("length", 1, 1) { i, a in i.int(try i.length(a[0])) }
        primitive("null?", 1, 1) { i, a in i.bool(a[0] == nil) }
        primitive("pair?", 1, 1) { i, a in i.bool(a[0]?.tag == .pair) }
        primitive("list?", 1, 1) { i, a in i.bool((try? i.length(a[0])) != nil) }
        primitive("append", 0, -1) { i, a in
            let parts = try i.listToArray(a.list)
            guard var result = parts.last else { return nil }
            for part in parts.dropLast().reversed() {
                var items = try i.listToArray(part)
                var l = result
                while let x = items.popLast() { l = i.cons(x, l) }
                result = l
            }
            return result
        }
        primitive("reverse", 1, 1) { i, a in
            var r: V = nil, p = a[0]
            while let q = p {
                guard q.tag == .pair else { throw i.fail("reverse", "not a proper list", a[0]) }
                r = i.cons(i.first(q), r); p = i.rest(q)
            }
            return r
        }
        primitive("list-tail", 2, 2) { i, a in
            var p = a[0]
            for _ in 0..<(try i.intValue(a[1], "list-tail")) { p = try i.cdr(p) }
            return p
        }
        primitive("list-ref", 2, 2) { i, a in
            var p = a[0]
            for _ in 0..<(try i.intValue(a[1], "list-ref")) { p = try i.cdr(p) }
            return try i.car(p)
        }
        func member(_ name: String, _ same: @escaping (Interp, V, V) -> Bool) {
            primitive(name, 2, 2) { i, a in
                var p = a[1]
                while let q = p, q.tag == .pair {
                    if same(i, a[0], i.first(q)) { return q }
                    p = i.rest(q)
                }
                return i.falseV
            }
        }
        member("memq") { _, x, y in x == y }
        member("memv") { i, x, y in i.eqv(x, y) }
        member("member") { i, x, y in i.equal(x, y) }
        func assoc(_ name: String, _ same: @escaping (Interp, V, V) -> Bool) {
            primitive(name, 2, 2) { i, a in
                var p = a[1]
                while let q = p, q.tag == .pair {
                    if let entry = i.first(q), entry.tag == .pair, same(i, a[0], i.first(entry)) { return entry }
                    p = i.rest(q)
                }
                return i.falseV
            }
        }
        assoc("assq") { _, x, y in x == y }
        assoc("assv") { i, x, y in i.eqv(x, y) }
        assoc("assoc") { i, x, y in i.equal(x, y) }
    }

    private func installStrings() {
        func str(_ i: Interp, _ v: V, _ who: String) throws -> Ref<Obj> {
            guard let s = v, s.tag == .string else { throw i.fail(who, "not a string", v) }
            return s
        }
        primitive("string?", 1, 1) { i, a in i.bool(a[0]?.tag == .string) }
        primitive("symbol?", 1, 1) { i, a in i.bool(a[0]?.tag == .symbol) }
        primitive("string-length", 1, 1) { i, a in i.int(try str(i, a[0], "string-length").word1) }
        primitive("string-ref", 2, 2) { i, a in
            let s = try str(i, a[0], "string-ref"), k = try i.intValue(a[1], "string-ref")
            guard k >= 0 && k < s.word1 else { throw i.fail("string-ref", "index out of range", a[1]) }
            return i.char(Unicode.Scalar(i.stringBytes(s)[k]))
        }
        primitive("substring", 2, 3) { i, a in
            let s = try str(i, a[0], "substring")
            let from = try i.intValue(a[1], "substring"), to = a.count > 2 ? try i.intValue(a[2], "substring") : s.word1
            guard 0 <= from && from <= to && to <= s.word1 else { throw SchemeError(message: "substring: bad range \(from) \(to)") }
            return i.string(Array(i.stringBytes(s)[from..<to]))
        }
        primitive("string-append", 0, -1) { i, a in
            var bytes: [UInt8] = []
            try a.forEach { bytes.append(contentsOf: i.stringBytes(try str(i, $0, "string-append"))) }
            return i.string(bytes)
        }
        primitive("string-copy", 1, 1) { i, a in i.string(Array(i.stringBytes(try str(i, a[0], "string-copy")))) }
        func compare(_ name: String, _ op: @escaping ([UInt8], [UInt8]) -> Bool) {
            primitive(name, 2, 2) { i, a in
                i.bool(op(Array(i.stringBytes(try str(i, a[0], name))), Array(i.stringBytes(try str(i, a[1], name)))))
            }
        }
        compare("string=?", ==)
        compare("string<?") { $0.lexicographicallyPrecedes($1) }
        compare("string>?") { $1.lexicographicallyPrecedes($0) }
        primitive("symbol->string", 1, 1) { i, a in
            guard let s = a[0], s.tag == .symbol else { throw i.fail("symbol->string", "not a symbol", a[0]) }
            return i.string(i.symbolName(s))
        }
        primitive("string->symbol", 1, 1) { i, a in i.symbol(i.swiftString(try str(i, a[0], "string->symbol"))) }
        primitive("string->list", 1, 1) { i, a in
            let s = try str(i, a[0], "string->list")
            return i.list(i.swiftString(s).unicodeScalars.map { i.char($0) })
        }
        primitive("list->string", 1, 1) { i, a in
            var s = ""
            for c in try i.listToArray(a[0]) {
                guard let c = c, c.tag == .char else { throw i.fail("list->string", "not a character", c) }
                s.unicodeScalars.append(Unicode.Scalar(UInt32(c.word1))!)
            }
            return i.string(s)
        }
        primitive("string", 0, -1) { i, a in
            var s = ""
            try a.forEach { c in
                guard let c = c, c.tag == .char else { throw i.fail("string", "not a character", c) }
                s.unicodeScalars.append(Unicode.Scalar(UInt32(c.word1))!)
            }
            return i.string(s)
        }
        primitive("make-string", 1, 2) { i, a in
            let n = try i.intValue(a[0], "make-string")
            let fill = a.count > 1 ? UInt8(truncatingIfNeeded: a[1]?.word1 ?? 32) : 32
            return i.string([UInt8](repeating: fill, count: max(0, n)))
        }
        primitive("string-upcase", 1, 1) { i, a in i.string(i.swiftString(try str(i, a[0], "string-upcase")).uppercased()) }
        primitive("string-downcase", 1, 1) { i, a in i.string(i.swiftString(try str(i, a[0], "string-downcase")).lowercased()) }
        func char(_ i: Interp, _ v: V, _ who: String) throws -> Unicode.Scalar {
            guard let c = v, c.tag == .char else { throw i.fail(who, "not a character", v) }
            return Unicode.Scalar(UInt32(c.word1))!
        }
        primitive("char?", 1, 1) { i, a in i.bool(a[0]?.tag == .char) }
        primitive("char->integer", 1, 1) { i, a in i.int(Int(try char(i, a[0], "char->integer").value)) }
        primitive("integer->char", 1, 1) { i, a in
            guard let c = Unicode.Scalar(UInt32(clamping: try i.intValue(a[0], "integer->char"))) else { throw i.fail("integer->char", "not a character code", a[0]) }
            return i.char(c)
        }
        primitive("char=?", 2, 2) { i, a in i.bool(try char(i, a[0], "char=?") == (try char(i, a[1], "char=?"))) }
        primitive("char<?", 2, 2) { i, a in i.bool(try char(i, a[0], "char<?") < (try char(i, a[1], "char<?"))) }
        primitive("char-alphabetic?", 1, 1) { i, a in i.bool(try char(i, a[0], "char-alphabetic?").properties.isAlphabetic) }
        primitive("char-numeric?", 1, 1) { i, a in i.bool(try char(i, a[0], "char-numeric?").properties.numericType != nil) }
        primitive("char-whitespace?", 1, 1) { i, a in i.bool(try char(i, a[0], "char-whitespace?").properties.isWhitespace) }
        primitive("char-upcase", 1, 1) { i, a in i.char(try char(i, a[0], "char-upcase").properties.uppercaseMapping.unicodeScalars.first!) }
        primitive("char-downcase", 1, 1) { i, a in i.char(try char(i, a[0], "char-downcase").properties.lowercaseMapping.unicodeScalars.first!) }
    }

    private func installVectorsAndMisc() {
        func vec(_ i: Interp, _ v: V, _ who: String) throws -> (Ref<Obj>, Ref<RefArray<Obj>>) {
            guard let x = v, x.tag == .vector else { throw i.fail(who, "not a vector", v) }
            return (x, i.m.load(x, F.b)!.cast(to: RefArray<Obj>.self))
        }
        func index(_ i: Interp, _ a: Args, _ x: Ref<Obj>, _ who: String) throws -> Int {
            let k = try i.intValue(a[1], who)
            guard k >= 0 && k < x.word1 else { throw i.fail(who, "index out of range", a[1]) }
            return k
        }
        primitive("vector?", 1, 1) { i, a in i.bool(a[0]?.tag == .vector) }
        primitive("make-vector", 1, 2) { i, a in
            let n = try i.intValue(a[0], "make-vector")
            guard n >= 0 else { throw i.fail("make-vector", "negative length", a[0]) }
            return i.vector(count: n, fill: a.count > 1 ? a[1] : i.int(0))
        }
        primitive("vector", 0, -1) { i, a in
            let v = i.vector(count: a.count, fill: nil)
            let items = i.m.load(v, F.b)!.cast(to: RefArray<Obj>.self)
            var k = 0
            a.forEach { i.m.store(items, k, $0); k += 1 }
            return v
        }
        primitive("vector-length", 1, 1) { i, a in i.int(try vec(i, a[0], "vector-length").0.word1) }
        primitive("vector-ref", 2, 2) { i, a in
            let (x, items) = try vec(i, a[0], "vector-ref")
            return i.m.load(items, try index(i, a, x, "vector-ref"))
        }
        primitive("vector-set!", 3, 3) { i, a in
            let (x, items) = try vec(i, a[0], "vector-set!")
            i.m.store(items, try index(i, a, x, "vector-set!"), a[2])
            return i.unspec
        }
        primitive("vector-fill!", 2, 2) { i, a in
            let (x, items) = try vec(i, a[0], "vector-fill!")
            for k in 0..<x.word1 { i.m.store(items, k, a[1]) }
            return i.unspec
        }
        primitive("vector->list", 1, 1) { i, a in
            let (x, items) = try vec(i, a[0], "vector->list")
            var l: V = nil
            for k in stride(from: x.word1 - 1, through: 0, by: -1) { l = i.cons(i.m.load(items, k), l) }
            return l
        }
        primitive("list->vector", 1, 1) { i, a in
            let elems = try i.listToArray(a[0])
            let v = i.vector(count: elems.count, fill: nil)
            let items = i.m.load(v, F.b)!.cast(to: RefArray<Obj>.self)
            for (k, e) in elems.enumerated() { i.m.store(items, k, e) }
            return v
        }
        primitive("not", 1, 1) { i, a in i.bool(a[0] == i.falseV) }
        primitive("boolean?", 1, 1) { i, a in i.bool(a[0]?.tag == .bool) }
        primitive("procedure?", 1, 1) { i, a in i.bool(a[0]?.tag == .closure || a[0]?.tag == .primitive) }
        primitive("eq?", 2, 2) { i, a in i.bool(a[0] == a[1]) }
        primitive("eqv?", 2, 2) { i, a in i.bool(i.eqv(a[0], a[1])) }
        primitive("equal?", 2, 2) { i, a in i.bool(i.equal(a[0], a[1])) }
        primitive("display", 1, 1) { i, a in
            var b: [UInt8] = []
            i.render(a[0], display: true, into: &b)
            i.out.bytes.append(contentsOf: b); i.out.flushIfLarge()
            return i.unspec
        }
        primitive("write", 1, 1) { i, a in
            var b: [UInt8] = []
            i.render(a[0], display: false, into: &b)
            i.out.bytes.append(contentsOf: b); i.out.flushIfLarge()
            return i.unspec
        }
        primitive("newline", 0, 0) { i, _ in i.out.append(10); i.out.flushIfLarge(); return i.unspec }
        primitive("error", 1, -1) { i, a in
            var msg = ""
            var first = true
            a.forEach { v in
                if first, let s = v, s.tag == .string { msg = i.swiftString(s) } else { msg += (msg.isEmpty ? "" : " ") + i.show(v) }
                first = false
            }
            throw SchemeError(message: msg)
        }
        primitive("exit", 0, 1) { i, a in
            i.out.flush()
            exit(a.count > 0 ? Int32(truncatingIfNeeded: (a[0]?.tag == .int ? a[0]!.word1 : 0)) : 0)
        }
        primitive("void", 0, -1) { i, _ in i.unspec }
        primitive("apply", 2, -1, kind: .apply) { _, _ in nil }
        primitive("collect-garbage", 0, 0, kind: .collect) { _, _ in nil }
        // Collector statistics, so programs (and their tests) can see that collections happened.
        primitive("gc-count", 0, 0) { i, _ in i.int(Int(i.gc.stats.numGC)) }
        primitive("heap-live-bytes", 0, 0) { i, _ in i.int(Int(i.gc.stats.heapLive)) }
        // Shadow-stack depth in slots: constant across iterations of a loop written as tail calls.
        primitive("stack-depth", 0, 0) { i, _ in i.int(i.m.stackDepth) }
    }

    func eqv(_ x: V, _ y: V) -> Bool {
        if x == y { return true }
        guard let a = x, let b = y, a.tag == b.tag else { return false }
        return (a.tag == .int || a.tag == .char) && a.word1 == b.word1
    }

    func equal(_ x: V, _ y: V) -> Bool {
        var x = x, y = y
        while true {
            if eqv(x, y) { return true }
            guard let a = x, let b = y, a.tag == b.tag else { return false }
            switch a.tag {
            case .pair:
                if !equal(first(a), first(b)) { return false }
                x = rest(a); y = rest(b)
            case .string:
                return a.word1 == b.word1 && Array(stringBytes(a)) == Array(stringBytes(b))
            case .vector:
                guard a.word1 == b.word1 else { return false }
                let ia = m.load(a, F.b)!.cast(to: RefArray<Obj>.self), ib = m.load(b, F.b)!.cast(to: RefArray<Obj>.self)
                for k in 0..<a.word1 where !equal(m.load(ia, k), m.load(ib, k)) { return false }
                return true
            default:
                return false
            }
        }
    }
}
