/// Reads the imports, type declarations (top level and local) and constant declarations of one Go file.
/// Everything else (function bodies, expressions) is skipped token by token.
struct GoParser {
    struct Failure: Error { var message: String; var line: Int; var column: Int }

    private var tokens: [GoToken]
    private var p = 0
    /// Type nesting depth, bounded by `GoResolver.maxDepth`.
    private var depth = 0
    private let source: Substring.UTF8View
    /// Prefix of block keys (the file's path), so that they are unique in a package.
    private let blockPrefix: String
    /// The blocks (`{`) open at this point of the file, innermost last; types and constants declared there are
    /// local to the innermost one.
    private var blocks: [String] = []

    init(source: Substring.UTF8View, file: String = "") throws {
        self.source = source
        blockPrefix = file + "#"
        tokens = try goTokenize(source)
    }

    private var scope: GoScope { GoScope(blocks: blocks.reversed(), offset: peek.start) }

    mutating func parseFile() throws -> GoFile {
        var check = GoSyntaxCheck(tokens)
        try check.run()
        var file = GoFile(packageName: "", types: [], constants: [:])
        while peek.kind != .eof {
            if peek.kind == .ident && peek.is("package") && file.packageName.isEmpty && tokens[p + 1].kind == .ident {
                file.packageName = tokens[p + 1].string; p += 2
            } else if peek.kind == .ident && peek.is("import") && file.types.isEmpty {
                // Imports precede every declaration (GoSyntaxCheck), so types below see them all.
                p += 1
                if peek.is("(") {
                    p += 1
                    while !peek.is(")") && peek.kind != .eof {
                        if peek.kind == .semicolon { p += 1; continue }
                        importSpec(into: &file)
                    }
                    p += 1
                } else { importSpec(into: &file) }
                imports = file.imports
            } else if peek.kind == .ident && peek.is("type") && (tokens[p + 1].kind == .ident || tokens[p + 1].is("(")) {
                p += 1
                if peek.is("(") {
                    p += 1
                    while !peek.is(")") {
                        if peek.kind == .semicolon { p += 1; continue }
                        if peek.kind == .eof { throw fail("unterminated type group") }
                        file.types.append(try typeSpec())
                    }
                    p += 1
                } else {
                    file.types.append(try typeSpec())
                }
            } else if peek.kind == .ident && peek.is("const") {
                p += 1
                // `iota` is the spec's index in its group; a spec without `= ...` repeats the previous list.
                var previous: [[GoLexeme]] = []
                if peek.is("(") {
                    p += 1
                    var iota = 0
                    while !peek.is(")") && peek.kind != .eof {
                        if peek.kind == .semicolon { p += 1; continue }
                        constSpec(iota: iota, previous: &previous, into: &file.constants)
                        iota += 1
                    }
                    p += 1
                } else { constSpec(iota: 0, previous: &previous, into: &file.constants) }
            } else {
                // Function bodies (and composite literals, harmlessly) open blocks.
                if peek.is("{") { blocks.append(blockPrefix + String(p)) }
                if peek.is("}") && !blocks.isEmpty { blocks.removeLast() }
                p += 1
            }
        }
        for i in file.types.indices { file.types[i].dotImports = file.dotImports }
        file.binaryTypes = GoWireFormat.binaryTypes(tokens: tokens, imports: file.imports)
        return file
    }

    /// The file's imports so far, for qualifiers in types.
    private var imports: [String: String] = [:]

    /// `[name | . | _] "path"`.
    private mutating func importSpec(into file: inout GoFile) {
        var name: String?
        if peek.kind == .ident || peek.is(".") { name = peek.string; p += 1 }
        guard peek.kind == .string else { return }
        let path = String(peek.string.dropFirst().dropLast())
        p += 1
        switch name {
        case "_": break
        case ".": file.dotImports.append(path)
        case let n?: file.imports[n] = path
        case nil: file.imports[Self.defaultImportName(path)] = path
        }
    }

    /// The name an import binds when it gives none: the last path element, skipping a `/vN` suffix. (The
    /// package clause of the imported package decides; for the standard library this is always right.)
    static func defaultImportName(_ path: String) -> String {
        let parts = path.split(separator: "/")
        if parts.count > 1, let last = parts.last, last.hasPrefix("v"), last.count > 1, last.dropFirst().allSatisfy(\.isNumber) {
            return String(parts[parts.count - 2])
        }
        return String(parts.last ?? "")
    }

    private var peek: GoToken { tokens[p] }

    private func fail(_ message: String) -> Failure { Failure(message: message, line: peek.line, column: peek.column) }

    private mutating func expect(_ s: StaticString) throws {
        guard peek.is(s) else { throw fail("expected '\(s)', found '\(peek.string)'") }
        p += 1
    }

    private mutating func ident() throws -> GoToken {
        guard peek.kind == .ident else { throw fail("expected identifier, found '\(peek.string)'") }
        defer { p += 1 }
        return peek
    }

    /// `a, b [T] = x, y`: each name with its expression (see GoConstants); the spec ends at `;` or the
    /// group's `)`, outside brackets.
    private mutating func constSpec(iota: Int, previous: inout [[GoLexeme]], into constants: inout [String: GoConstant]) {
        let start = p
        var depth = 0
        while peek.kind != .eof && !(depth == 0 && (peek.kind == .semicolon || peek.is(")"))) {
            if peek.is("(") || peek.is("[") || peek.is("{") { depth += 1 }
            if peek.is(")") || peek.is("]") || peek.is("}") { depth -= 1 }
            p += 1
        }
        let spec = tokens[start..<p]
        if peek.kind == .semicolon { p += 1 }
        var names: [String] = []
        var i = spec.startIndex
        while i < spec.endIndex, spec[i].kind == .ident {
            names.append(spec[i].string)
            i += 1
            if i < spec.endIndex, spec[i].is(",") { i += 1 } else { break }
        }
        var lists = previous
        if let equals = spec[i...].firstIndex(where: { $0.is("=") }) {
            lists = []
            var element: [GoToken] = []
            var d = 0
            for t in spec[(equals + 1)...] {
                if t.is("(") || t.is("[") || t.is("{") { d += 1 }
                if t.is(")") || t.is("]") || t.is("}") { d -= 1 }
                if d == 0 && t.is(",") { lists.append(goLexemes(element[...])); element = []; continue }
                element.append(t)
            }
            lists.append(goLexemes(element[...]))
            previous = lists
        }
        // Local constants are keyed by their block; the scope starts after the spec.
        var declared = scope
        declared.offset = tokens[p - 1].end
        let prefix = blocks.last.map { $0 + "\u{0}" } ?? ""
        for (n, name) in names.enumerated() where name != "_" && n < lists.count && constants[prefix + name] == nil {
            constants[prefix + name] = GoConstant(expression: lists[n], iota: iota, scope: declared)
        }
    }

    private mutating func typeSpec() throws -> GoTypeDecl {
        let here = scope
        let name = try ident()
        var params: [String] = []
        if peek.is("["), tokens[p + 1].kind == .ident, isTypeParameterList(at: p) {
            p += 1
            var depth = 1
            var expectName = true
            while depth > 0 {
                if peek.kind == .eof { throw fail("unterminated type parameter list") }
                if peek.is("[") || peek.is("(") || peek.is("{") { depth += 1 }
                if peek.is("]") || peek.is(")") || peek.is("}") { depth -= 1 }
                if depth == 1 && peek.is(",") { expectName = true }
                else if expectName && peek.kind == .ident && depth == 1 { params.append(peek.string); expectName = false }
                p += 1
            }
        }
        var isAlias = false
        if peek.is("=") { isAlias = true; p += 1 }
        let bodyStart = peek.is("struct") ? tokens[p + 1].end : nil
        let type = try parseType()
        let bodyRange = bodyStart.map { $0..<(tokens[p - 1].start) }
        if peek.kind == .semicolon { p += 1 }
        return GoTypeDecl(name: name.string, typeParameters: params, isAlias: isAlias, type: type,
                          line: name.line, column: name.column, bodyRange: bodyRange, scope: here)
    }

    /// Whether `type T[...` opens a type parameter list rather than an array length, as go/parser decides
    /// (extractName): `[P any]`, `[P, Q any]`, `[P ~int]` are parameters; `[N]` is an array, and so is
    /// `[N * M]`: `P *C` is a parameter only when a comma follows (`[P *C,]`) or C is plainly a type
    /// (`[P *[]int]`, `*struct{...}`, `*map...`).
    private func isTypeParameterList(at open: Int) -> Bool {
        let second = tokens[open + 2]
        if second.kind == .ident || second.is(",") || second.is("~") { return true }
        guard second.is("*") else { return false }
        let element = tokens[open + 3]
        if element.is("[") || ["struct", "func", "interface", "map", "chan"].contains(where: { element.kind == .ident && element.string == $0 }) {
            return true
        }
        let close = closingBracket(from: open)
        var depth = 0
        for i in open..<close {
            if tokens[i].is("[") || tokens[i].is("(") || tokens[i].is("{") { depth += 1 }
            if tokens[i].is("]") || tokens[i].is(")") || tokens[i].is("}") { depth -= 1 }
            if depth == 1 && tokens[i].is(",") { return true }
        }
        return false
    }

    private mutating func parseType() throws -> GoType {
        depth += 1
        defer { depth -= 1 }
        if depth > GoResolver.maxDepth { throw fail("type nested more than \(GoResolver.maxDepth) levels deep") }
        let t = peek
        if t.kind == .ident {
            p += 1
            switch t.string {
            case "struct": return .structType(try structBody())
            case "interface": try skipBalanced(); return .interface
            case "map":
                try expect("["); _ = try parseType(); try expect("]"); _ = try parseType(); return .map
            case "chan":
                if peek.is("<-") { p += 1 }
                _ = try parseType(); return .chan
            case "func": try skipSignature(); return .function
            default:
                var pkg: GoQualifier?
                var name = t.string
                if peek.is("."), tokens[p + 1].kind == .ident {
                    pkg = GoQualifier(name: name, path: imports[name]); name = tokens[p + 1].string; p += 2
                }
                var args: [GoType] = []
                if peek.is("["), !tokens[p + 1].is("]") {
                    p += 1
                    while !peek.is("]") {
                        args.append(try parseType())
                        if peek.is(",") { p += 1 } else if !peek.is("]") { throw fail("expected ',' or ']' in type arguments") }
                    }
                    p += 1
                }
                return .named(package: pkg, name: name, arguments: args)
            }
        }
        if t.is("*") { p += 1; return .pointer(try parseType()) }
        if t.is("(") { p += 1; let inner = try parseType(); try expect(")"); return inner }
        if t.is("<-") { p += 1; try expect("chan"); _ = try parseType(); return .chan }
        if t.is("[") {
            p += 1
            if peek.is("]") { p += 1; return .slice(try parseType()) }
            let lenStart = p
            var depth = 1
            while true {
                if peek.kind == .eof { throw fail("unterminated array length") }
                if peek.is("[") || peek.is("(") { depth += 1 }
                if peek.is("]") || peek.is(")") { depth -= 1; if depth == 0 { break } }
                p += 1
            }
            let lenTokens = tokens[lenStart..<p]
            p += 1
            let text = lenTokens.map(\.string).joined()
            let len = lenTokens.count == 1 && lenTokens.first!.kind == .number ? goIntLiteral(text) : nil
            return .array(length: len, lengthText: text, lengthExpression: goLexemes(lenTokens), element: try parseType())
        }
        throw fail("expected a type, found '\(t.string)'")
    }

    private mutating func structBody() throws -> [GoField] {
        try expect("{")
        var fields: [GoField] = []
        while !peek.is("}") {
            if peek.kind == .semicolon { p += 1; continue }
            if peek.kind == .eof { throw fail("unterminated struct") }
            let first = peek
            var names: [String] = []
            let embedded: Bool
            if first.is("*") { embedded = true }
            else if first.kind == .ident, tokens[p + 1].is(".") || tokens[p + 1].kind == .semicolon
                        || tokens[p + 1].kind == .string || tokens[p + 1].is("}") { embedded = true }
            else if first.kind == .ident, tokens[p + 1].is("[") {
                // `a [N]T` is a field; `G[T]` alone (then `;`, `}` or a tag) embeds a generic instance.
                let after = tokens[closingBracket(from: p + 1) + 1]
                embedded = after.kind == .semicolon || after.kind == .string || after.is("}") || after.kind == .eof
            }
            else { embedded = false }
            if !embedded {
                names.append(try ident().string)
                while peek.is(",") { p += 1; names.append(try ident().string) }
            }
            let typeStart = peek.start
            let type = try parseType()
            let typeText = String(decoding: slice(typeStart, tokens[p - 1].end), as: UTF8.self)
            var tag: String?
            if peek.kind == .string { tag = peek.string; p += 1 }
            fields.append(GoField(names: names, type: type, typeText: typeText, line: first.line, column: first.column,
                                  range: first.start..<tokens[p - 1].end, tag: tag))
            if peek.kind == .semicolon { p += 1 } else if !peek.is("}") { throw fail("expected ';' or '}' after field") }
        }
        p += 1
        return fields
    }

    /// The index of the bracket closing the one at `open` (or of the end of the file).
    private func closingBracket(from open: Int) -> Int {
        var depth = 0
        var i = open
        while tokens[i].kind != .eof {
            if tokens[i].is("[") || tokens[i].is("(") || tokens[i].is("{") { depth += 1 }
            if tokens[i].is("]") || tokens[i].is(")") || tokens[i].is("}") { depth -= 1; if depth == 0 { return i } }
            i += 1
        }
        return i
    }

    private func slice(_ from: Int, _ to: Int) -> Substring.UTF8View.SubSequence {
        let lo = source.index(source.startIndex, offsetBy: from)
        return source[lo..<source.index(lo, offsetBy: to - from)]
    }

    /// `(params) results`, where results is a parenthesized list, a type, or nothing.
    private mutating func skipSignature() throws {
        guard peek.is("(") else { throw fail("expected '(' after func") }
        try skipBalanced()
        if peek.is("(") { try skipBalanced(); return }
        if peek.kind == .ident || peek.is("*") || peek.is("[") || peek.is("<-") { _ = try parseType() }
    }

    /// Skips from an opening bracket (or a keyword followed by one) to its match.
    private mutating func skipBalanced() throws {
        var depth = 0
        repeat {
            if peek.kind == .eof { throw fail("unbalanced brackets") }
            if peek.is("(") || peek.is("{") || peek.is("[") { depth += 1 }
            if peek.is(")") || peek.is("}") || peek.is("]") { depth -= 1 }
            p += 1
        } while depth > 0
    }
}

/// Go integer literals: decimal, 0x, 0o, 0b, legacy octal, with `_` separators.
func goIntLiteral(_ s: String) -> Int? {
    let t = String(s.filter { $0 != "_" }).lowercased()
    if t.hasPrefix("0x") { return Int(t.dropFirst(2), radix: 16) }
    if t.hasPrefix("0o") { return Int(t.dropFirst(2), radix: 8) }
    if t.hasPrefix("0b") { return Int(t.dropFirst(2), radix: 2) }
    if t.count > 1 && t.hasPrefix("0") { return Int(t.dropFirst(), radix: 8) }
    return Int(t)
}
