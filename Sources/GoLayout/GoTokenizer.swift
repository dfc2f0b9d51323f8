/// A Go lexer, just enough for type declarations: identifiers, numbers, strings, punctuation, with comments
/// skipped and Go's automatic semicolons inserted at line ends (the spec's rule), so the parser can split
/// field lines exactly as the compiler does.
struct GoToken {
    enum Kind: Equatable { case ident, number, string, punct, semicolon, eof }
    var kind: Kind
    var text: Substring.UTF8View.SubSequence
    /// Byte offset of the token's first byte.
    var start: Int
    var end: Int
    var line: Int
    var column: Int
    var string: String { String(decoding: text, as: UTF8.self) }
    func `is`(_ s: StaticString) -> Bool {
        text.elementsEqual(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}

enum GoLexError: Error { case unterminated(what: String, line: Int) }

func goTokenize(_ source: Substring.UTF8View) throws -> [GoToken] {
    var tokens: [GoToken] = []
    let bytes = Array(source)
    var i = 0, line = 1, lineStart = 0
    // Go inserts ';' at a newline after an identifier, literal, keyword break/continue/fallthrough/return,
    // '++', '--', ')', ']' or '}'.
    func needsSemicolon() -> Bool {
        guard let last = tokens.last else { return false }
        switch last.kind {
        case .ident, .number, .string: return true
        case .punct: return last.is(")") || last.is("]") || last.is("}") || last.is("++") || last.is("--")
        default: return false
        }
    }
    func token(_ kind: GoToken.Kind, _ from: Int, _ to: Int, line l: Int, col: Int) -> GoToken {
        let lo = source.index(source.startIndex, offsetBy: from)
        let hi = source.index(lo, offsetBy: to - from)
        return GoToken(kind: kind, text: source[lo..<hi], start: from, end: to, line: l, column: col)
    }
    while i < bytes.count {
        let c = bytes[i]
        if c == UInt8(ascii: "\n") {
            if needsSemicolon() { tokens.append(token(.semicolon, i, i, line: line, col: i - lineStart + 1)) }
            i += 1; line += 1; lineStart = i; continue
        }
        if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { i += 1; continue }
        let col = i - lineStart + 1, startLine = line
        if c == UInt8(ascii: "/") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "/") {
            while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            continue
        }
        if c == UInt8(ascii: "/") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*") {
            var sawNewline = false
            i += 2
            while i + 1 < bytes.count && !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) {
                if bytes[i] == UInt8(ascii: "\n") { sawNewline = true; line += 1; lineStart = i + 1 }
                i += 1
            }
            if i + 1 >= bytes.count { throw GoLexError.unterminated(what: "comment", line: startLine) }
            i += 2
            if sawNewline && needsSemicolon() { tokens.append(token(.semicolon, i, i, line: line, col: 1)) }
            continue
        }
        let start = i
        if isIdentStart(c) {
            while i < bytes.count && (isIdentStart(bytes[i]) || isDigit(bytes[i])) { i += 1 }
            tokens.append(token(.ident, start, i, line: line, col: col)); continue
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && i + 1 < bytes.count && isDigit(bytes[i + 1])) {
            while i < bytes.count && (isIdentStart(bytes[i]) || isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ".")) { i += 1 }
            tokens.append(token(.number, start, i, line: line, col: col)); continue
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "`") {
            i += 1
            while i < bytes.count && bytes[i] != c {
                if bytes[i] == UInt8(ascii: "\\") && c != UInt8(ascii: "`") { i += 1 }
                else if bytes[i] == UInt8(ascii: "\n") {
                    if c != UInt8(ascii: "`") { throw GoLexError.unterminated(what: "string", line: startLine) }
                    line += 1; lineStart = i + 1
                }
                i += 1
            }
            if i >= bytes.count { throw GoLexError.unterminated(what: "string", line: startLine) }
            i += 1
            tokens.append(token(.string, start, i, line: startLine, col: col)); continue
        }
        // Punctuation: the multi-byte operators the declarations we read can contain; others are one byte.
        if i + 1 < bytes.count {
            let pair = (c, bytes[i + 1])
            if pair == (UInt8(ascii: "<"), UInt8(ascii: "-")) || pair == (UInt8(ascii: "+"), UInt8(ascii: "+"))
                || pair == (UInt8(ascii: "-"), UInt8(ascii: "-")) || pair == (UInt8(ascii: ":"), UInt8(ascii: "=")) {
                i += 2; tokens.append(token(.punct, start, i, line: line, col: col)); continue
            }
            if c == UInt8(ascii: ".") && i + 2 < bytes.count && bytes[i + 1] == c && bytes[i + 2] == c {
                i += 3; tokens.append(token(.punct, start, i, line: line, col: col)); continue
            }
        }
        i += 1
        tokens.append(token(c == UInt8(ascii: ";") ? .semicolon : .punct, start, i, line: line, col: col))
    }
    if needsSemicolon() { tokens.append(token(.semicolon, i, i, line: line, col: i - lineStart + 1)) }
    tokens.append(token(.eof, i, i, line: line, col: i - lineStart + 1))
    return tokens
}

@inline(__always) private func isIdentStart(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
        || c == UInt8(ascii: "_") || c >= 0x80
}
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
