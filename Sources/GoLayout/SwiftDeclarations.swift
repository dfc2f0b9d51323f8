import SwiftSyntax

/// Every type the analyzed Swift files declare, by qualified name (`Outer.Inner`), collected before any
/// field is resolved so that declaration order and file order do not matter.
final class SwiftDeclarations {
    enum Kind { case structType, enumType, classType, protocolType, typeAlias }

    struct StoredProperty {
        var name: String
        var type: TypeSyntax?
        var initializer: ExprSyntax?
        var attributes: [String]
        var isLazy: Bool
        /// `weak`, `unowned`, `unowned(unsafe)`.
        var ownership: String?
        /// Inside `#if` (then `--fix` leaves the struct alone).
        var inIfConfig: Bool
        /// Inside a `#if` whose branch the tool cannot decide (see SwiftIfConfig): the layout is unknown.
        var configUndecided = false
        var position: AbsolutePosition
        /// The whole member (with its comments and attributes); nil when it declares several properties.
        var memberRange: Range<Int>?
        /// Another member or the opening brace is on the same line (`var a: Int8; func f() {}`): moving the
        /// member's text would move or break its neighbour, so `--fix` refuses the struct.
        var sharesLine = false
    }

    struct EnumCase {
        var payload: [TypeSyntax]
        var indirect: Bool
    }

    final class TypeDecl {
        var kind: Kind
        var name: String
        var qualifiedName: String
        /// Enclosing type path, for lookups from inside this type, innermost last. An extended type is one
        /// element (`["A.B", "C"]` for `extension A.B { struct C {} }`): lexical scopes, not the type's parents.
        var scope: [String]
        var genericParameters: [String] = []
        var inherited: [TypeSyntax] = []
        var attributes: [String] = []
        var properties: [StoredProperty] = []
        var cases: [EnumCase] = []
        var isIndirect = false
        var aliased: TypeSyntax?
        var hasInit = false
        /// Declared `private` or `fileprivate`, or nested in such a type: seen first from its own file.
        var isFileLocal = false
        /// Some enum case is inside an undecided `#if`: the enum's layout is unknown.
        var hasUndecidedCases = false
        var file: String
        var position: AbsolutePosition
        var converter: SourceLocationConverter
        var bodyRange: Range<Int>?
        init(kind: Kind, name: String, scope: [String], file: String, position: AbsolutePosition,
             converter: SourceLocationConverter) {
            self.kind = kind; self.name = name; self.scope = scope; self.file = file; self.position = position
            self.converter = converter
            qualifiedName = (scope + [name]).joined(separator: ".")
        }
    }

    let ifConfig: SwiftIfConfig
    init(model: DataModel) { ifConfig = SwiftIfConfig(model: model) }
    /// Above 0 while reading the branches of an undecided `#if`.
    private var undecidedDepth = 0
    /// Types declared more than once where one declaration is in an undecided `#if`: which one the compiler
    /// sees is not known, so they resolve to unknown.
    private(set) var ambiguous: Set<String> = []
    private var undecidedTypes: Set<String> = []

    private(set) var types: [String: TypeDecl] = [:]
    /// Private and fileprivate types (and the types nested in them) by file, then qualified name: a reference
    /// from that file means these first (two files may each have a `private struct Entry`).
    private(set) var fileLocal: [String: [String: TypeDecl]] = [:]
    /// Types by module (see `moduleName`), then qualified name: a reference means its own module's type first,
    /// and `Module.Name` names one of them.
    private(set) var moduleTypes: [String: [String: TypeDecl]] = [:]

    /// The module of a file in a SwiftPM layout: the directory under the last `Sources` or `Tests`
    /// (`Sources/Lib/Sub/x.swift` is in Lib); nil elsewhere.
    static func moduleName(of path: String) -> String? {
        let parts = path.split(separator: "/")
        guard let i = parts.dropLast().lastIndex(where: { $0 == "Sources" || $0 == "Tests" }), i + 2 < parts.count else {
            return nil
        }
        return String(parts[i + 1])
    }
    /// Structs in source order, for reporting.
    private(set) var structs: [TypeDecl] = []
    /// Conformances added by extensions (`extension S: Codable {}`), by extended type name as written.
    private(set) var extensionConformances: [String: [String]] = [:]

    func add(file: String, tree: SourceFileSyntax) {
        let converter = SourceLocationConverter(fileName: file, tree: tree)
        for item in tree.statements {
            if case .decl(let decl) = item.item { collect(decl, scope: [], file: file, converter: converter) }
        }
    }

    /// The declarations of the `#if` branches to read (see SwiftIfConfig), at file scope or in a type.
    private func ifConfigDecls(_ ifc: IfConfigDeclSyntax, _ body: (DeclSyntax) -> Void) {
        let (clauses, undecided) = ifConfig.clausesToRead(ifc)
        if undecided { undecidedDepth += 1 }
        defer { if undecided { undecidedDepth -= 1 } }
        for clause in clauses {
            switch clause.elements {
            case .decls(let list)?: for m in list { body(m.decl) }
            case .statements(let list)?: for item in list { if case .decl(let d) = item.item { body(d) } }
            default: break
            }
        }
    }

    private func collect(_ decl: DeclSyntax, scope: [String], file: String, converter: SourceLocationConverter,
                         fileLocal enclosingLocal: Bool = false) {
        let module = Self.moduleName(of: file)
        func make(_ kind: Kind, _ name: TokenSyntax, _ generics: GenericParameterClauseSyntax?,
                  _ inheritance: InheritanceClauseSyntax?, _ attributes: AttributeListSyntax,
                  _ members: MemberBlockSyntax?) -> TypeDecl {
            let t = TypeDecl(kind: kind, name: name.text, scope: scope, file: file,
                             position: name.positionAfterSkippingLeadingTrivia, converter: converter)
            t.genericParameters = generics?.parameters.map(\.name.text) ?? []
            t.inherited = inheritance?.inheritedTypes.map(\.type) ?? []
            t.attributes = attributes.compactMap { $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription }
            if let members {
                t.bodyRange = members.leftBrace.endPosition.utf8Offset..<members.rightBrace.position.utf8Offset
            }
            t.isFileLocal = enclosingLocal || decl.asProtocol(WithModifiersSyntax.self)?.modifiers.contains {
                $0.name.tokenKind == .keyword(.private) || $0.name.tokenKind == .keyword(.fileprivate)
            } == true
            if t.isFileLocal, fileLocal[file]?[t.qualifiedName] == nil { fileLocal[file, default: [:]][t.qualifiedName] = t }
            if let module, moduleTypes[module]?[t.qualifiedName] == nil { moduleTypes[module, default: [:]][t.qualifiedName] = t }
            if types[t.qualifiedName] == nil { types[t.qualifiedName] = t }
            else if undecidedDepth > 0 || undecidedTypes.contains(t.qualifiedName) { ambiguous.insert(t.qualifiedName) }
            if undecidedDepth > 0 { undecidedTypes.insert(t.qualifiedName) }
            return t
        }
        if let s = decl.as(StructDeclSyntax.self) {
            let t = make(.structType, s.name, s.genericParameterClause, s.inheritanceClause, s.attributes, s.memberBlock)
            members(s.memberBlock.members, into: t, file: file, converter: converter, inIfConfig: false)
            structs.append(t)
        } else if let e = decl.as(EnumDeclSyntax.self) {
            let t = make(.enumType, e.name, e.genericParameterClause, e.inheritanceClause, e.attributes, e.memberBlock)
            t.isIndirect = e.modifiers.contains { $0.name.tokenKind == .keyword(.indirect) }
            members(e.memberBlock.members, into: t, file: file, converter: converter, inIfConfig: false)
        } else if let c = decl.as(ClassDeclSyntax.self) {
            let t = make(.classType, c.name, c.genericParameterClause, c.inheritanceClause, c.attributes, c.memberBlock)
            members(c.memberBlock.members, into: t, file: file, converter: converter, inIfConfig: false)
        } else if let a = decl.as(ActorDeclSyntax.self) {
            let t = make(.classType, a.name, a.genericParameterClause, a.inheritanceClause, a.attributes, a.memberBlock)
            members(a.memberBlock.members, into: t, file: file, converter: converter, inIfConfig: false)
        } else if let p = decl.as(ProtocolDeclSyntax.self) {
            _ = make(.protocolType, p.name, nil, p.inheritanceClause, p.attributes, nil)
        } else if let a = decl.as(TypeAliasDeclSyntax.self) {
            let t = make(.typeAlias, a.name, a.genericParameterClause, nil, a.attributes, nil)
            t.aliased = a.initializer.value
        } else if let x = decl.as(ExtensionDeclSyntax.self) {
            let extended = x.extendedType.trimmedDescription
            if let inh = x.inheritanceClause {
                extensionConformances[extended, default: []] += inh.inheritedTypes.map(\.type.trimmedDescription)
            }
            // Inside `extension A.B`, unqualified names are looked up in A.B's members (from any declaration of
            // it), then at file scope; not in A's other members (measured: a top-level `Inner` wins over
            // `A.Inner` there). Keeping "A.B" as one scope element makes `lookup` skip the scope "A".
            let inner = scope + [extended]
            let local = x.modifiers.contains { $0.name.tokenKind == .keyword(.private) || $0.name.tokenKind == .keyword(.fileprivate) }
            for m in x.memberBlock.members {
                collect(m.decl, scope: inner, file: file, converter: converter, fileLocal: enclosingLocal || local)
            }
        } else if let ifc = decl.as(IfConfigDeclSyntax.self) {
            ifConfigDecls(ifc) { collect($0, scope: scope, file: file, converter: converter, fileLocal: enclosingLocal) }
        }
    }

    private func members(_ list: MemberBlockItemListSyntax, into t: TypeDecl, file: String,
                         converter: SourceLocationConverter, inIfConfig: Bool) {
        let inner = t.scope + [t.name]
        // A type's own body starts decided: a struct inside an undecided `#if` has ordinary fields.
        let outer = undecidedDepth
        if !inIfConfig { undecidedDepth = 0 }
        defer { undecidedDepth = outer }
        let items = Array(list)
        for (i, item) in items.enumerated() {
            let decl = item.decl
            if let v = decl.as(VariableDeclSyntax.self) {
                let first = t.properties.count
                addProperties(v, item: item, into: t, inIfConfig: inIfConfig)
                let shares = !Self.startsLine(item) || (i + 1 < items.count && !Self.startsLine(items[i + 1]))
                for j in first..<t.properties.count { t.properties[j].sharesLine = shares }
            } else if let c = decl.as(EnumCaseDeclSyntax.self) {
                let indirect = c.modifiers.contains { $0.name.tokenKind == .keyword(.indirect) }
                if undecidedDepth > 0 { t.hasUndecidedCases = true }
                for element in c.elements {
                    t.cases.append(EnumCase(payload: element.parameterClause?.parameters.map(\.type) ?? [],
                                            indirect: indirect))
                }
            } else if decl.is(InitializerDeclSyntax.self) {
                t.hasInit = true
            } else if let ifc = decl.as(IfConfigDeclSyntax.self) {
                let (clauses, undecided) = ifConfig.clausesToRead(ifc)
                if undecided { undecidedDepth += 1 }
                for clause in clauses {
                    if case .decls(let list) = clause.elements {
                        members(list, into: t, file: file, converter: converter, inIfConfig: true)
                    }
                }
                if undecided { undecidedDepth -= 1 }
            } else {
                collect(decl, scope: inner, file: file, converter: converter, fileLocal: t.isFileLocal)
            }
        }
    }

    /// Whether a member begins on a new line (a line break in its leading trivia).
    static func startsLine(_ item: MemberBlockItemSyntax) -> Bool {
        item.leadingTrivia.contains { if case .newlines = $0 { return true }; if case .carriageReturnLineFeeds = $0 { return true }; return false }
    }

    private func addProperties(_ v: VariableDeclSyntax, item: MemberBlockItemSyntax, into t: TypeDecl, inIfConfig: Bool) {
        let modifiers = v.modifiers.map { $0.name.text }
        if modifiers.contains("static") || modifiers.contains("class") { return }
        let ownership = v.modifiers.first { ["weak", "unowned"].contains($0.name.text) }
            .map { $0.name.text + ($0.detail.map { "(\($0.detail.text))" } ?? "") }
        let attributes = v.attributes.compactMap { $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription }
        let bindings = Array(v.bindings)
        let single = bindings.count == 1
        for (i, b) in bindings.enumerated() {
            if let accessors = b.accessorBlock {
                guard case .accessors(let list) = accessors.accessors,
                      list.allSatisfy({ ["willSet", "didSet"].contains($0.accessorSpecifier.text) }) else { continue }
            }
            // `var a, b: Int`: a binding without a type takes the next binding's type.
            var type = b.typeAnnotation?.type
            if type == nil && b.initializer == nil {
                type = bindings[(i + 1)...].first { $0.typeAnnotation != nil }?.typeAnnotation?.type
            }
            for (name, type, initializer) in Self.flatten(b.pattern, type: type, initializer: b.initializer?.value) {
                t.properties.append(StoredProperty(
                    name: name.text, type: type, initializer: initializer,
                    attributes: attributes, isLazy: modifiers.contains("lazy"), ownership: ownership,
                    inIfConfig: inIfConfig, configUndecided: undecidedDepth > 0,
                    position: name.positionAfterSkippingLeadingTrivia,
                    memberRange: single && b.pattern.is(IdentifierPatternSyntax.self)
                        ? item.position.utf8Offset..<item.endPosition.utf8Offset : nil))
            }
        }
    }

    /// `var (e, (f, _)): (Int8, (Int32, Bool)) = ...` declares the stored properties e and f, each typed by its
    /// element of the annotation (or of a tuple initializer); `_` stores nothing (measured with MemoryLayout).
    static func flatten(_ pattern: PatternSyntax, type: TypeSyntax?, initializer: ExprSyntax?)
        -> [(TokenSyntax, TypeSyntax?, ExprSyntax?)] {
        if let id = pattern.as(IdentifierPatternSyntax.self) { return [(id.identifier, type, initializer)] }
        guard let tuple = pattern.as(TuplePatternSyntax.self) else { return [] }
        let types = type?.as(TupleTypeSyntax.self).map { Array($0.elements.map(\.type)) }
        let values = initializer?.as(TupleExprSyntax.self).map { Array($0.elements.map(\.expression)) }
        var out: [(TokenSyntax, TypeSyntax?, ExprSyntax?)] = []
        for (i, element) in tuple.elements.enumerated() {
            let elementType = types.flatMap { i < $0.count ? $0[i] : nil }
            let elementValue = values.flatMap { i < $0.count ? $0[i] : nil }
            out += flatten(element.pattern, type: elementType, initializer: elementType == nil ? elementValue : nil)
        }
        return out
    }
}
