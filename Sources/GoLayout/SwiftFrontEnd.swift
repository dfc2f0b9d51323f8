import SwiftParser
import SwiftSyntax

/// Swift front end: every struct declared in a set of Swift files, with Swift's layout rules. Files are
/// parsed with swift-syntax; all declarations are collected first, so a struct may use types from any file.
public enum SwiftFrontEnd {
    public static func structs(files: [(path: String, source: String)], model: DataModel = .host) throws -> [StructDecl] {
        try analyze(files: files, model: model, skipUnparsable: false).structs
    }

    /// The structs, and the files that do not parse: with `skipUnparsable` they are left out (and returned),
    /// else the first one throws. Syntax errors in a `#if` branch the tool knows is not taken do not count:
    /// swiftc does not parse a branch disabled by `compiler(>=X)` either (newer syntax sits there).
    static func analyze(files: [(path: String, source: String)], model: DataModel,
                        skipUnparsable: Bool) throws -> (structs: [StructDecl], skipped: [SourceError]) {
        let declarations = SwiftDeclarations(model: model)
        var skipped: [SourceError] = []
        for (path, source) in files {
            let tree = Parser.parse(source: source)
            if tree.hasError, let error = firstError(in: tree, file: path, ifConfig: declarations.ifConfig) {
                if !skipUnparsable { throw error }
                skipped.append(error)
                continue
            }
            declarations.add(file: path, tree: tree)
        }
        let resolver = SwiftResolver(declarations: declarations, model: model)
        let structs = declarations.structs.map { decl in
            resolver.setFile(decl.file)
            let inner = decl.scope + [decl.name]
            let env = resolver.environment(for: decl, args: nil, context: [:])
            var traits = StructTraits()
            traits.isFrozen = decl.attributes.contains("frozen")
            let conformances = decl.inherited.map(\.trimmedDescription)
                + (declarations.extensionConformances[decl.qualifiedName] ?? [])
                + (decl.scope.isEmpty ? [] : declarations.extensionConformances[decl.name] ?? [])
            traits.isCodable = conformances.contains { declarations.impliesCodable($0) }
            traits.hasMemberwiseInit = !decl.hasInit
            if decl.properties.contains(where: { $0.memberRange == nil }) {
                traits.fixBlocker = "declares several properties in one declaration"
            } else if decl.properties.contains(where: \.inIfConfig) {
                traits.fixBlocker = "has stored properties inside #if"
            } else if decl.properties.contains(where: \.sharesLine) {
                traits.fixBlocker = "has a stored property on a line with another member or the opening brace"
            }
            let fields = decl.properties.map { p -> FieldDecl in
                let loc = decl.converter.location(for: p.position)
                return FieldDecl(name: p.name, typeText: typeText(p), line: loc.line, column: loc.column,
                                 resolved: resolver.property(p, scope: inner, env: env), sourceRange: p.memberRange)
            }
            let loc = decl.converter.location(for: decl.position)
            return StructDecl(file: decl.file, line: loc.line, column: loc.column, name: decl.qualifiedName,
                              language: .swift, fields: fields, traits: traits, bodyRange: decl.bodyRange)
        }
        return (structs, skipped)
    }

    /// How the field's storage is written: its annotation, plus the modifiers that change storage.
    static func typeText(_ p: SwiftDeclarations.StoredProperty) -> String {
        var text = p.type?.trimmedDescription ?? p.initializer.map { "= \($0.trimmedDescription.prefix(30))" } ?? "?"
        let wrappers = p.attributes.filter { $0.first?.isUppercase == true }
        if !wrappers.isEmpty { text = wrappers.map { "@\($0) " }.joined() + text }
        if p.isLazy { text = "lazy " + text }
        if let o = p.ownership { text = o + " " + text }
        return text
    }

    /// The first missing or unexpected piece of syntax outside the `#if` branches known not to be taken, as a
    /// one-line error; nil when there is none.
    static func firstError(in tree: SourceFileSyntax, file: String, ifConfig: SwiftIfConfig) -> SourceError? {
        final class Finder: SyntaxVisitor {
            var position: AbsolutePosition?
            var what = "syntax error"
            let ifConfig: SwiftIfConfig
            init(ifConfig: SwiftIfConfig) {
                self.ifConfig = ifConfig
                super.init(viewMode: .all)
            }
            override func visit(_ node: IfConfigDeclSyntax) -> SyntaxVisitorContinueKind {
                let read = Set(ifConfig.clausesToRead(node).clauses.map(\.id))
                for clause in node.clauses where position == nil {
                    // A skipped clause's condition must still parse (it decided); its body need not.
                    if read.contains(clause.id) { walk(clause) } else if let condition = clause.condition { walk(condition) }
                }
                if position == nil { walk(node.poundEndif) }
                return .skipChildren
            }
            override func visit(_ node: UnexpectedNodesSyntax) -> SyntaxVisitorContinueKind {
                if position == nil {
                    position = node.positionAfterSkippingLeadingTrivia
                    what = "unexpected '\(node.trimmedDescription.prefix(30))'"
                }
                return .skipChildren
            }
            override func visit(_ token: TokenSyntax) -> SyntaxVisitorContinueKind {
                if position == nil, token.presence == .missing {
                    position = token.position
                    what = "expected '\(token.text.isEmpty ? token.tokenKind.kindName : token.text)'"
                }
                return .skipChildren
            }
        }
        let finder = Finder(ifConfig: ifConfig)
        finder.walk(tree)
        guard let position = finder.position else { return nil }
        let loc = SourceLocationConverter(fileName: file, tree: tree).location(for: position)
        return SourceError(file: file, line: loc.line, column: loc.column, message: "cannot parse Swift: \(finder.what)")
    }
}

private extension TokenKind {
    var kindName: String { "\(self)".split(separator: "(").first.map(String.init) ?? "token" }
}
