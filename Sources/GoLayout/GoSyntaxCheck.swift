/// The Go front end's syntax check: the file's top-level shape and its bracket structure.
///
/// GoParser reads only type declarations and skips everything else, so on its own it would accept any text.
/// This check walks the top level as the Go grammar does (`package` clause, imports, then `func`, `var`,
/// `const` and `type` declarations, each ending in `;` or the end of the file) and requires every bracket
/// to close with its partner. Function bodies and initializers are only checked for brackets: an error
/// inside them that keeps brackets balanced goes unnoticed. It must never reject a file gofmt accepts
/// (checked on every file of Go 1.19's `src`).
struct GoSyntaxCheck {
    private let tokens: [GoToken]
    private var p = 0

    init(_ tokens: [GoToken]) { self.tokens = tokens }

    /// Throws the first error, at its token.
    mutating func run() throws {
        try expectWord("package", "'package'")
        try expectIdent("package name")
        try endOfDeclaration()
        var sawDeclaration = false
        while peek.kind != .eof {
            guard peek.kind == .ident else { throw fail("non-declaration statement outside function body") }
            switch peek.string {
            case "import":
                if sawDeclaration { throw fail("imports must appear before other declarations") }
                p += 1
                if peek.is("(") { try balanced() } else { try importSpec() }
            case "func":
                sawDeclaration = true
                p += 1
                try function()
            case "var", "const", "type":
                sawDeclaration = true
                p += 1
                if peek.is("(") { try balanced() } else { try untilSemicolon() }
            default:
                throw fail("non-declaration statement outside function body")
            }
            try endOfDeclaration()
        }
    }

    private var peek: GoToken { tokens[p] }

    private func fail(_ message: String) -> GoParser.Failure {
        let found = peek.kind == .eof ? "EOF" : peek.kind == .semicolon && peek.text.isEmpty ? "newline" : "'\(peek.string)'"
        return GoParser.Failure(message: "syntax error: \(message), found \(found)", line: peek.line, column: peek.column)
    }

    private mutating func expectWord(_ word: StaticString, _ what: String) throws {
        guard peek.kind == .ident && peek.is(word) else { throw fail("expected \(what)") }
        p += 1
    }

    private mutating func expectIdent(_ what: String) throws {
        guard peek.kind == .ident else { throw fail("expected \(what)") }
        p += 1
    }

    private mutating func endOfDeclaration() throws {
        if peek.kind == .semicolon { p += 1; return }
        guard peek.kind == .eof else { throw fail("expected ';' or newline after declaration") }
    }

    /// `[name | . | _] "path"`.
    private mutating func importSpec() throws {
        if peek.kind == .ident || peek.is(".") { p += 1 }
        guard peek.kind == .string else { throw fail("expected import path") }
        p += 1
    }

    /// After `func`: `[(receiver)] name [[type params]] (params) [result] [{ body }]`.
    private mutating func function() throws {
        if peek.is("(") { try balanced() }
        try expectIdent("function name")
        if peek.is("[") { try balanced() }
        guard peek.is("(") else { throw fail("expected '('") }
        try balanced()
        // The result: a type or a parenthesized list, up to the body or the end of the declaration. A brace
        // that follows `struct` or `interface` belongs to the type.
        while peek.kind != .semicolon && peek.kind != .eof && !peek.is("{") {
            if peek.kind == .ident && (peek.is("struct") || peek.is("interface")) && tokens[p + 1].is("{") {
                p += 1
            }
            if isOpener(peek) { try balanced() } else if isCloser(peek) { throw fail("unexpected '\(peek.string)'") } else { p += 1 }
        }
        if peek.is("{") { try balanced() }
    }

    /// Tokens up to a `;` outside brackets.
    private mutating func untilSemicolon() throws {
        while peek.kind != .semicolon && peek.kind != .eof {
            if isOpener(peek) { try balanced() } else if isCloser(peek) { throw fail("unexpected '\(peek.string)'") } else { p += 1 }
        }
    }

    /// From an opening bracket past its partner; every bracket inside must close with its own partner.
    /// Iterative, so nesting depth costs no stack.
    private mutating func balanced() throws {
        var open: [UInt8] = []
        repeat {
            let t = peek
            if t.kind == .eof {
                let want = open.last.map { $0 == UInt8(ascii: "(") ? ")" : $0 == UInt8(ascii: "[") ? "]" : "}" } ?? "?"
                throw fail("expected '\(want)'")
            }
            if isOpener(t) { open.append(t.text.first!) }
            else if isCloser(t) {
                let partner: UInt8 = t.is(")") ? UInt8(ascii: "(") : t.is("]") ? UInt8(ascii: "[") : UInt8(ascii: "{")
                guard open.last == partner else { throw fail("unexpected '\(t.string)'") }
                open.removeLast()
            }
            p += 1
        } while !open.isEmpty
    }

    private func isOpener(_ t: GoToken) -> Bool { t.kind == .punct && (t.is("(") || t.is("[") || t.is("{")) }
    private func isCloser(_ t: GoToken) -> Bool { t.kind == .punct && (t.is(")") || t.is("]") || t.is("}")) }
}
