/// Go integer constant expressions, for array lengths: `[N]T`, `[N+1]T`, `[1 << 20]T`, `[len("abc")]T`, and
/// constants declared in the analyzed package (untyped or typed, `iota` in const blocks, a spec without
/// `= ...` repeating the previous one). Operators: unary `+ - ^`, binary `* / % << >> & &^ + - | ^`, with Go's
/// precedence, parentheses, conversions to integer types (`uintptr(8)`), `len` of a string literal (or of a
/// constant declared as one), integer
/// and rune literals. Anything else (floats, `unsafe.Sizeof`, comparisons, a constant of another package) and
/// any overflow of 64-bit arithmetic is not evaluated: the length is reported unknown.

/// One token of a constant expression; `<<`, `>>` and `&^` are single lexemes.
struct GoLexeme: Equatable {
    var kind: GoToken.Kind
    var text: String
}

/// A declared constant: its expression and the value of `iota` in its spec. A constant declared in a function
/// is keyed `block\0name` (see GoScope) and records its blocks and position: its scope starts after its spec.
struct GoConstant {
    var expression: [GoLexeme]
    var iota: Int
    var scope = GoScope()
}

/// Lexemes of a token run, joining the two-byte operators the lexer splits.
func goLexemes(_ tokens: ArraySlice<GoToken>) -> [GoLexeme] {
    var out: [GoLexeme] = []
    var i = tokens.startIndex
    while i < tokens.endIndex {
        let t = tokens[i]
        if i + 1 < tokens.endIndex, tokens[i + 1].start == t.end, t.kind == .punct, tokens[i + 1].kind == .punct {
            let pair = t.string + tokens[i + 1].string
            if pair == "<<" || pair == ">>" || pair == "&^" { out.append(GoLexeme(kind: .punct, text: pair)); i += 2; continue }
        }
        out.append(GoLexeme(kind: t.kind, text: t.string))
        i += 1
    }
    return out
}

/// Evaluates expressions over a package's constants; each constant is evaluated once. Names are looked up
/// from `scope` (the declaration being resolved): its blocks innermost first, then the package.
struct GoConstantEvaluator {
    let constants: [String: GoConstant]
    private var values: [String: Int?] = [:]
    private var evaluating: Set<String> = []
    var scope = GoScope()

    init(constants: [String: GoConstant]) { self.constants = constants }

    /// The key of the constant `name` seen from `scope`.
    func key(of name: String) -> String {
        for block in scope.blocks {
            let key = block + "\u{0}" + name
            if let c = constants[key], c.scope.offset < scope.offset { return key }
        }
        return name
    }

    static let integerTypes: Set<String> = ["int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
                                            "uint32", "uint64", "uintptr", "byte", "rune"]

    mutating func value(of name: String) -> Int? {
        let key = key(of: name)
        if let v = values[key] { return v }
        guard let c = constants[key], !evaluating.contains(key) else { return nil }
        evaluating.insert(key)
        let outer = scope
        scope = c.scope
        let v = evaluate(c.expression, iota: c.iota)
        scope = outer
        evaluating.remove(key)
        values[key] = v
        return v
    }

    mutating func evaluate(_ expression: [GoLexeme], iota: Int?) -> Int? {
        var parser = Parser(tokens: expression, iota: iota)
        guard let v = parser.binary(&self, precedence: 1), parser.p == expression.count else { return nil }
        return v
    }

    struct Parser {
        var tokens: [GoLexeme]
        var iota: Int?
        var p = 0

        var peek: GoLexeme? { p < tokens.count ? tokens[p] : nil }

        static func precedence(_ op: String) -> Int? {
            switch op {
            case "*", "/", "%", "<<", ">>", "&", "&^": return 5
            case "+", "-", "|", "^": return 4
            default: return nil
            }
        }

        mutating func binary(_ ev: inout GoConstantEvaluator, precedence: Int) -> Int? {
            guard var left = unary(&ev) else { return nil }
            while let op = peek, op.kind == .punct, let prec = Self.precedence(op.text), prec >= precedence {
                p += 1
                guard let right = binary(&ev, precedence: prec + 1), let v = Self.apply(op.text, left, right) else { return nil }
                left = v
            }
            return left
        }

        static func apply(_ op: String, _ a: Int, _ b: Int) -> Int? {
            switch op {
            case "*": let r = a.multipliedReportingOverflow(by: b); return r.overflow ? nil : r.partialValue
            case "+": let r = a.addingReportingOverflow(b); return r.overflow ? nil : r.partialValue
            case "-": let r = a.subtractingReportingOverflow(b); return r.overflow ? nil : r.partialValue
            case "/": return b == 0 || (a == .min && b == -1) ? nil : a / b
            case "%": return b == 0 || (a == .min && b == -1) ? nil : a % b
            case "&": return a & b
            case "|": return a | b
            case "^": return a ^ b
            case "&^": return a & ~b
            case "<<":
                guard b >= 0 else { return nil }
                if a == 0 { return 0 }
                guard b < 63 else { return nil }
                let r = a << b
                return r >> b == a ? r : nil
            case ">>":
                guard b >= 0 else { return nil }
                return b >= 64 ? (a < 0 ? -1 : 0) : a >> b
            default: return nil
            }
        }

        mutating func unary(_ ev: inout GoConstantEvaluator) -> Int? {
            guard let t = peek else { return nil }
            if t.kind == .punct && (t.text == "+" || t.text == "-" || t.text == "^") {
                p += 1
                guard let v = unary(&ev) else { return nil }
                switch t.text {
                case "-": return v == .min ? nil : -v
                case "^": return ~v
                default: return v
                }
            }
            return primary(&ev)
        }

        mutating func primary(_ ev: inout GoConstantEvaluator) -> Int? {
            guard let t = peek else { return nil }
            p += 1
            switch t.kind {
            case .number: return goIntLiteral(t.text)
            case .string: return t.text.hasPrefix("'") ? goRuneValue(t.text) : nil
            case .punct where t.text == "(":
                guard let v = binary(&ev, precedence: 1), peek?.text == ")" else { return nil }
                p += 1
                return v
            case .ident:
                if peek?.text == "(" {
                    // len("literal") or a conversion int(x).
                    p += 1
                    let v: Int?
                    if t.text == "len", let s = peek, s.kind == .string, !s.text.hasPrefix("'") {
                        p += 1
                        v = goStringByteCount(s.text)
                    } else if t.text == "len", let s = peek, s.kind == .ident, let c = ev.constants[ev.key(of: s.text)],
                              c.expression.count == 1, c.expression[0].kind == .string, !c.expression[0].text.hasPrefix("'") {
                        p += 1
                        v = goStringByteCount(c.expression[0].text)  // a constant declared as a string literal
                    } else if GoConstantEvaluator.integerTypes.contains(t.text) {
                        v = binary(&ev, precedence: 1)
                    } else { return nil }
                    guard v != nil, peek?.text == ")" else { return nil }
                    p += 1
                    return v
                }
                if t.text == "iota" { return iota }
                if peek?.text == "." { return nil }  // another package's constant
                return ev.value(of: t.text)
            default: return nil
            }
        }
    }
}

/// Bytes of a Go string literal's value (raw or interpreted); nil for a malformed escape.
func goStringByteCount(_ literal: String) -> Int? {
    let body = Array(literal.unicodeScalars.dropFirst().dropLast())
    if literal.hasPrefix("`") { return String(String.UnicodeScalarView(body.filter { $0 != "\r" })).utf8.count }
    var count = 0
    var i = 0
    while i < body.count {
        guard body[i] == "\\" else { count += String(body[i]).utf8.count; i += 1; continue }
        guard i + 1 < body.count else { return nil }
        let c = body[i + 1]
        switch c {
        case "a", "b", "f", "n", "r", "t", "v", "\\", "'", "\"": count += 1; i += 2
        case "x": count += 1; i += 4
        case "0"..."7": count += 1; i += 4
        case "u", "U":
            let n = c == "u" ? 4 : 8
            guard i + 2 + n <= body.count, let v = UInt32(String(String.UnicodeScalarView(body[(i + 2)..<(i + 2 + n)])), radix: 16),
                  let scalar = Unicode.Scalar(v) else { return nil }
            count += String(scalar).utf8.count; i += 2 + n
        default: return nil
        }
    }
    return count
}

/// The value of a rune literal: `'a'`, `'\n'`, `'\x41'`, `'\u00e9'`; nil otherwise.
func goRuneValue(_ literal: String) -> Int? {
    let body = Array(literal.unicodeScalars.dropFirst().dropLast())
    if body.count == 1 { return Int(body[0].value) }
    guard body.first == "\\", body.count >= 2 else { return nil }
    let simple: [Unicode.Scalar: Int] = ["a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39]
    if body.count == 2, let v = simple[body[1]] { return v }
    let digits = String(String.UnicodeScalarView(body.dropFirst(2)))
    switch body[1] {
    case "x", "u", "U": return Int(digits, radix: 16)
    case "0"..."7": return Int(String(String.UnicodeScalarView(body.dropFirst())), radix: 8)
    default: return nil
    }
}
