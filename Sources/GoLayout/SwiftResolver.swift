import SwiftParser
import SwiftSyntax

/// Resolves Swift type syntax to a layout, following the declarations in the analyzed files and the
/// standard library table. Unknown types are never guessed: they come back as `.unknown(why)`.
final class SwiftResolver {
    let declarations: SwiftDeclarations
    let known: SwiftKnownTypes
    let model: DataModel
    /// By declaration, not name: private types of two files, or types of two modules, may share a name.
    private var cache: [ObjectIdentifier: Resolved] = [:]
    private var resolving: Set<ObjectIdentifier> = []
    /// The file whose declaration is being resolved: its private types, then its module's, come first.
    var currentFile = ""
    private var currentModule: String?
    /// Above 0 while resolving a generic struct's type arguments: a struct field of generic type stores its value
    /// at the most general abstraction, where a struct or enum metatype is thick (8 bytes), not thin (measured:
    /// `Pair<S.Type, Int8>` is 9 bytes, `(S.Type, Int8)` is 1).
    var thickMetatypes = 0
    /// Declarations being resolved, one inside another (bounded by `GoResolver.maxDepth`).
    private var depth = 0

    init(declarations: SwiftDeclarations, model: DataModel) {
        self.declarations = declarations
        self.model = model
        known = SwiftKnownTypes(model: model)
    }

    typealias Environment = [String: Resolved]

    // MARK: Types

    func resolve(_ type: TypeSyntax, scope: [String], env: Environment) -> Resolved {
        if let t = type.as(InlineArrayTypeSyntax.self) {
            return inlineArray(count: t.count, element: t.element, scope: scope, env: env)
        }
        if let t = type.as(IdentifierTypeSyntax.self), t.name.text == "InlineArray",
           let clause = t.genericArgumentClause, clause.arguments.count == 2, lookup("InlineArray", scope: scope) == nil {
            let a = Array(clause.arguments)
            return inlineArray(count: a[0], element: a[1], scope: scope, env: env)
        }
        if let t = type.as(IdentifierTypeSyntax.self) {
            return named(t.name.text, clause: t.genericArgumentClause, scope: scope, env: env, context: env)
        }
        if let t = type.as(MemberTypeSyntax.self) { return member(t, scope: scope, env: env) }
        if let t = type.as(OptionalTypeSyntax.self) { return optional(resolve(t.wrappedType, scope: scope, env: env)) }
        if let t = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
            return optional(resolve(t.wrappedType, scope: scope, env: env))
        }
        if type.is(ArrayTypeSyntax.self) { return .known(model.heapReference) }
        if type.is(DictionaryTypeSyntax.self) { return known.lookup("Dictionary", [.unknown(""), .unknown("")])! }
        if let t = type.as(TupleTypeSyntax.self) {
            let elements = Array(t.elements)
            if elements.count == 1 && elements[0].firstName == nil { return resolve(elements[0].type, scope: scope, env: env) }
            return aggregate(elements.map { resolve($0.type, scope: scope, env: env) })
        }
        if type.is(FunctionTypeSyntax.self) { return .known(known.function) }
        if let t = type.as(AttributedTypeSyntax.self) {
            let names = t.attributes.compactMap { $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription }
            if names.contains("convention") { return .unknown("function type with @convention") }
            return resolve(t.baseType, scope: scope, env: env)
        }
        if let t = type.as(SomeOrAnyTypeSyntax.self) {
            if t.someOrAnySpecifier.text == "some" { return .unknown("opaque 'some' type: the underlying type is not visible") }
            return existential(t.constraint, scope: scope)
        }
        if type.is(CompositionTypeSyntax.self) { return existential(type, scope: scope) }
        if type.is(ClassRestrictionTypeSyntax.self) { return .known(model.heapReference) }
        if let t = type.as(MetatypeTypeSyntax.self) { return metatype(t, scope: scope, env: env) }
        return .unknown("type '\(type.trimmedDescription)' is not supported")
    }

    /// `InlineArray<N, T>` and `[N of T]`: N must be an integer literal (SwiftKnownTypes.inlineArray).
    private func inlineArray(count: GenericArgumentSyntax, element: GenericArgumentSyntax, scope: [String],
                             env: Environment) -> Resolved {
        guard case .expr(let e) = count.argument, let lit = e.as(IntegerLiteralExprSyntax.self),
              let n = Int(lit.literal.text.replacingOccurrences(of: "_", with: "")) else {
            return .unknown("InlineArray count '\(count.trimmedDescription)' is not an integer literal")
        }
        guard case .type(let t) = element.argument else { return .unknown("InlineArray element is not a type") }
        thickMetatypes += 1
        defer { thickMetatypes -= 1 }
        return known.inlineArray(count: n, element: resolve(t, scope: scope, env: env))
    }

    private func arguments(_ clause: GenericArgumentClauseSyntax?, thick: Bool, scope: [String], env: Environment) -> [Resolved] {
        guard let clause else { return [] }
        if thick { thickMetatypes += 1 }
        defer { if thick { thickMetatypes -= 1 } }
        return clause.arguments.map { arg in
            if case .type(let t) = arg.argument { return resolve(t, scope: scope, env: env) }
            return .unknown("value generic argument")
        }
    }

    func optional(_ wrapped: Resolved) -> Resolved {
        guard let w = wrapped.layout else { return wrapped }
        return EnumLayout.singlePayload(w, emptyCases: 1)
    }

    func aggregate(_ fields: [Resolved]) -> Resolved {
        var layouts: [TypeLayout] = []
        for f in fields {
            guard let l = f.layout else { return f }
            layouts.append(l)
        }
        return .known(Language.swift.aggregate(layouts))
    }

    /// A named type, `T<Args>`. Arguments are resolved only when the layout depends on them (structs, enums,
    /// typealiases, `Optional`, `Result`, ...): a class, protocol, pointer, key path or array is one layout
    /// whatever they are, and a generic type may name itself through one (`UnsafePointer<Node<T>>`,
    /// `Ref<G<G<T>>>`), which resolved would instantiate without end. `context` binds the generic parameters
    /// of the types enclosing the declaration found (see `environment`).
    private func named(_ name: String, clause: GenericArgumentClauseSyntax?, scope: [String], env: Environment,
                       context: Environment) -> Resolved {
        let argCount = clause?.arguments.count ?? 0
        if argCount == 0, let bound = env[name] { return bound }
        if let decl = lookup(name, scope: scope) {
            if declarations.ambiguous.contains(decl.qualifiedName) {
                return .unknown("type \(decl.qualifiedName) is declared in several branches of a #if the tool cannot decide")
            }
            let independent = decl.kind == .classType || decl.kind == .protocolType
            let args = independent ? [] : arguments(clause, thick: decl.kind == .structType, scope: scope, env: env)
            return resolveDecl(decl, args: args, context: context)
        }
        switch name {
        case "Any", "Swift.Any": return existentialLayout(witnessTables: 0, classBound: false)
        case "AnyObject", "Swift.AnyObject", "AnyClass", "Swift.AnyClass": return .known(model.heapReference)
        default: break
        }
        let args = SwiftKnownTypes.layoutDependsOnArguments(name)
            ? arguments(clause, thick: false, scope: scope, env: env)
            : [Resolved](repeating: .unknown("unused type argument"), count: argCount)
        if let r = known.lookup(name, args) { return r }
        if SwiftKnownTypes.protocolKind(name) != nil || name == "Codable" {
            return existential(TypeSyntax(IdentifierTypeSyntax(name: .identifier(name))), scope: scope)
        }
        return .unknown("type \(name) is not declared in the analyzed files (another module?)")
    }

    /// `A<X>.B<Y>`, `Self.Kind`, `Swift.Int`: the path's names joined (`A.B`), looked up as one name; the
    /// arguments of the enclosing components bind their generic parameters for the nested declaration
    /// (`Cache<Int8>.Entry` sees `Value` = Int8).
    private func member(_ t: MemberTypeSyntax, scope: [String], env: Environment) -> Resolved {
        var components: [(name: String, clause: GenericArgumentClauseSyntax?)] = [(t.name.text, t.genericArgumentClause)]
        var base = t.baseType
        while true {
            if let m = base.as(MemberTypeSyntax.self) {
                components.insert((m.name.text, m.genericArgumentClause), at: 0); base = m.baseType
            } else if let i = base.as(IdentifierTypeSyntax.self) {
                components.insert((i.name.text, i.genericArgumentClause), at: 0); break
            } else {
                return .unknown("type '\(t.trimmedDescription)' is not supported")
            }
        }
        var lookupScope = scope
        if components[0].name == "Self" {
            // `Self.Kind` inside a type: its own member, whatever the lexical scopes around it hold.
            guard !scope.isEmpty else { return .unknown("Self outside a type") }
            components.removeFirst()
            components[0].name = scope.joined(separator: ".") + "." + components[0].name
            lookupScope = []
        }
        var context = env
        var path = ""
        for c in components.dropLast() {
            path += path.isEmpty ? c.name : "." + c.name
            guard let clause = c.clause, let d = lookup(path, scope: lookupScope), !d.genericParameters.isEmpty else { continue }
            let args = arguments(clause, thick: d.kind == .structType, scope: scope, env: env)
            for (p, a) in zip(d.genericParameters, args) { context[p] = a }
        }
        let name = components.map(\.name).joined(separator: ".")
        return named(name, clause: components.last!.clause, scope: lookupScope, env: env, context: context)
    }

    /// Makes `file` the context of lookups (see `lookup`).
    func setFile(_ file: String) {
        guard file != currentFile else { return }
        currentFile = file
        currentModule = SwiftDeclarations.moduleName(of: file)
    }

    /// Innermost first: `A.B` scope looks up `A.B.Name`, then `A.Name`, then `Name`. At each level a private or
    /// fileprivate type of the current file wins, then one of its module, then the first declared anywhere.
    func lookup(_ name: String, scope: [String]) -> SwiftDeclarations.TypeDecl? {
        var s = scope
        while true {
            let q = (s + [name]).joined(separator: ".")
            if let d = declarations.fileLocal[currentFile]?[q] { return d }
            if let m = currentModule, let d = declarations.moduleTypes[m]?[q] { return d }
            if let d = declarations.types[q] { return d }
            if s.isEmpty { break }
            s.removeLast()
        }
        // `Lib.Storage`: a type of module Lib among the analyzed sources (Sources/Lib/...).
        if let dot = name.firstIndex(of: "."), let module = declarations.moduleTypes[String(name[..<dot])] {
            return module[String(name[name.index(after: dot)...])]
        }
        return nil
    }

    /// The generic parameters a declaration's body sees: those of every enclosing type, bound from `context`
    /// (the environment where it was named: inside `Cache<Int8>`, `Entry` sees `Value` = Int8), then its own.
    /// Unbound ones are unknown.
    func environment(for decl: SwiftDeclarations.TypeDecl, args: [Resolved]?, context: Environment) -> Environment {
        var env: Environment = [:]
        let parts = decl.qualifiedName.split(separator: ".").map(String.init)
        for k in parts.indices.dropLast() {
            guard let ancestor = declarations.types[parts[...k].joined(separator: ".")] else { continue }
            for p in ancestor.genericParameters {
                env[p] = context[p] ?? .unknown("generic parameter \(p) of \(ancestor.qualifiedName)")
            }
        }
        for (i, p) in decl.genericParameters.enumerated() {
            env[p] = args.map { $0[i] } ?? .unknown("generic parameter \(p)")
        }
        return env
    }

    func resolveDecl(_ decl: SwiftDeclarations.TypeDecl, args: [Resolved], context: Environment = [:]) -> Resolved {
        // Each level of nesting recurses: past the Go front end's limit, say so instead of overflowing the stack.
        depth += 1
        defer { depth -= 1 }
        if depth > GoResolver.maxDepth { return .unknown("types nested more than \(GoResolver.maxDepth) levels deep") }
        // A declaration's own fields are concrete again, whatever context named it.
        let outer = thickMetatypes
        thickMetatypes = 0
        defer { thickMetatypes = outer }
        switch decl.kind {
        case .classType: return .known(model.heapReference)
        case .protocolType:
            return existential(TypeSyntax(IdentifierTypeSyntax(name: .identifier(decl.name))), scope: decl.scope)
        default: break
        }
        guard args.count == decl.genericParameters.count else {
            return .unknown("generic type \(decl.qualifiedName) without its type arguments")
        }
        let env = environment(for: decl, args: args, context: context)
        // Only a declaration that sees no generic parameter has one layout.
        let key = env.isEmpty ? ObjectIdentifier(decl) : nil
        if let key, let cached = cache[key] { return cached }
        // Arguments of classes, pointers and the like are never resolved (see `named`), so meeting a declaration
        // again inside its own layout means it holds itself by value: an infinite type for the compiler, and an
        // unbounded instantiation here (`struct G<T> { var g: G<G<T>>? }`).
        guard !resolving.contains(ObjectIdentifier(decl)) else {
            return .unknown(env.isEmpty ? "recursive type \(decl.qualifiedName)"
                                        : "recursive generic instantiation of \(decl.qualifiedName)")
        }
        resolving.insert(ObjectIdentifier(decl))
        let outerFile = currentFile
        setFile(decl.file)
        defer { resolving.remove(ObjectIdentifier(decl)); setFile(outerFile) }
        let inner = decl.scope + [decl.name]
        let result: Resolved
        switch decl.kind {
        case .typeAlias:
            result = resolve(decl.aliased!, scope: decl.scope, env: env)
        case .structType:
            var fields: [Resolved] = []
            for p in decl.properties {
                let r = property(p, scope: inner, env: env)
                if case .unknown(let why) = r { fields.append(.unknown("\(decl.qualifiedName).\(p.name): \(why)")); break }
                fields.append(r)
            }
            result = aggregate(fields)
        case .enumType:
            result = enumLayout(decl, scope: inner, env: env)
        default:
            result = .unknown("unexpected declaration")
        }
        if let key { cache[key] = result }
        return result
    }

    private func enumLayout(_ decl: SwiftDeclarations.TypeDecl, scope: [String], env: Environment) -> Resolved {
        if decl.hasUndecidedCases { return .unknown("enum \(decl.qualifiedName) has cases inside an undecided #if") }
        var payloads: [TypeLayout] = []
        var empty = 0
        var fixedLayout = true
        for c in decl.cases {
            if c.payload.isEmpty { empty += 1; continue }
            if c.indirect || decl.isIndirect { payloads.append(model.heapReference); continue }
            let r = payloadLayout(c.payload, scope: scope, env: env)
            guard let l = r.layout else { return r }
            // IRGen decides in the generic context: a payload that depends on a type parameter is not fixed-size
            // there, so it stays a payload case even when empty, and the enum gets no spare-bit tags.
            let dependent = !env.isEmpty && dependsOnParameters(c.payload, decl: decl, parameters: Array(env.keys), scope: scope)
            if dependent { fixedLayout = false; payloads.append(l); continue }
            // IRGen counts a case whose payload is known to be empty among the no-payload cases.
            if l.size == 0 { empty += 1; continue }
            payloads.append(l)
        }
        return EnumLayout.layout(payloads: payloads, emptyCases: empty, fixedLayout: fixedLayout)
    }

    private func payloadLayout(_ payload: [TypeSyntax], scope: [String], env: Environment) -> Resolved {
        payload.count == 1 ? resolve(payload[0], scope: scope, env: env)
            : aggregate(payload.map { resolve($0, scope: scope, env: env) })
    }

    /// Whether a case's payload layout depends on the type parameters the enum sees (its own and its enclosing
    /// types'): resolved with each bound to a marker, it comes back unknown because of the marker (a class, `[T]`
    /// or `(T) -> U` does not).
    private func dependsOnParameters(_ payload: [TypeSyntax], decl: SwiftDeclarations.TypeDecl,
                                     parameters: [String], scope: [String]) -> Bool {
        let marker = "\u{1}type parameter of \(decl.qualifiedName)"
        let env = Dictionary(uniqueKeysWithValues: parameters.map { ($0, Resolved.unknown(marker)) })
        if case .unknown(let why) = payloadLayout(payload, scope: scope, env: env) { return why.contains(marker) }
        return false
    }

    /// Metatypes (measured with MemoryLayout, as struct fields):
    /// - thin, 0 bytes: of a struct or enum, and a protocol's own metatype, `P.Protocol` = `(any P).Type`;
    ///   stored at full abstraction (a generic struct's field) every thin metatype is a thick 8-byte pointer;
    /// - a class's, `Any.Type`, `AnyObject.Type`: the metadata pointer, 8;
    /// - existential metatypes `any P.Type` (Swift 5: `P.Type`): the metadata pointer plus one witness table per
    ///   protocol, `Error` included (`any Error.Type` is 16).
    private func metatype(_ t: MetatypeTypeSyntax, scope: [String], env: Environment) -> Resolved {
        let base = t.baseType
        let thin = Resolved.known(thickMetatypes > 0 ? model.heapReference : .plain(0, 1))
        if t.metatypeSpecifier.text == "Protocol" { return thin }
        if let paren = base.as(TupleTypeSyntax.self), paren.elements.count == 1, paren.elements.first!.firstName == nil {
            let inner = paren.elements.first!.type
            if inner.is(SomeOrAnyTypeSyntax.self) || inner.is(CompositionTypeSyntax.self) { return thin }
            return metatype(t.with(\.baseType, inner), scope: scope, env: env)
        }
        if base.is(SomeOrAnyTypeSyntax.self) || base.is(CompositionTypeSyntax.self) {
            return existentialMetatype(base.as(SomeOrAnyTypeSyntax.self)?.constraint ?? base, scope: scope)
        }
        let name = base.trimmedDescription
        if name == "Any" || name == "AnyObject" { return .known(model.heapReference) }
        if let decl = lookup(name, scope: scope) {
            switch decl.kind {
            case .structType, .enumType:  // thin: the type is static, unless stored abstractly
                return thin
            case .classType: return .known(model.heapReference)
            case .protocolType: return existentialMetatype(base, scope: scope)
            default: break
            }
        }
        if known.lookup(name, []) != nil { return thin }
        if SwiftKnownTypes.protocolKind(name) != nil { return existentialMetatype(base, scope: scope) }
        return .unknown("metatype of \(name)")
    }

    /// `any P.Type`: the metadata pointer plus one witness table per protocol (an `Error` one too).
    func existentialMetatype(_ constraint: TypeSyntax, scope: [String]) -> Resolved {
        switch existentialShape(constraint, scope: scope) {
        case .failure(let why): return .unknown(why.message)
        case .success(let shape):
            let tables = shape.tables + (shape.isError ? 1 : 0)
            var m = model.heapReference
            m.size = 8 + 8 * tables
            m.pointerBytes = 0
            if tables > 0 { m.spareBits = nil }
            return .known(m)
        }
    }

    /// The witness tables of a class reference with this type, `weak`/`unowned` storage aside: 0 for a class,
    /// `AnyObject` or a class-bound protocol without witnesses, one per protocol for a class existential
    /// (`any CP & CP2`: 2); nil when it is not known to be a class reference. `weak` types are Optional.
    func classReferenceTables(_ type: TypeSyntax, scope: [String]) -> Int? {
        var t = type
        if let o = t.as(OptionalTypeSyntax.self) { t = o.wrappedType }
        else if let o = t.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) { t = o.wrappedType }
        if let paren = t.as(TupleTypeSyntax.self), paren.elements.count == 1, paren.elements.first!.firstName == nil {
            t = paren.elements.first!.type
        }
        if let a = t.as(SomeOrAnyTypeSyntax.self) {
            guard a.someOrAnySpecifier.text == "any" else { return nil }
            t = a.constraint
        }
        guard case .success(let shape) = existentialShape(t, scope: scope), shape.classBound, !shape.isError else { return nil }
        return shape.tables
    }

    // MARK: Existentials

    /// `any P & Q`: an opaque existential is a 3-word buffer plus the type's metadata (32 bytes), a
    /// class-bound one is the reference (8); each protocol with witnesses adds one witness-table word.
    /// `any Error` alone is a single boxed reference.
    func existential(_ constraint: TypeSyntax, scope: [String]) -> Resolved {
        // `any P.Type`: an existential metatype.
        if let m = constraint.as(MetatypeTypeSyntax.self), m.metatypeSpecifier.text == "Type" {
            return existentialMetatype(m.baseType, scope: scope)
        }
        switch existentialShape(constraint, scope: scope) {
        case .failure(let why): return .unknown(why.message)
        case .success(let shape):
            if shape.isError {
                return shape.tables == 0 && !shape.classBound ? .known(model.heapReference)
                    : .unknown("existential combining Error with other protocols")
            }
            return existentialLayout(witnessTables: shape.tables, classBound: shape.classBound)
        }
    }

    struct ExistentialShape { var tables = 0; var classBound = false; var isError = false }
    struct Why: Error { var message: String }

    func existentialShape(_ constraint: TypeSyntax, scope: [String]) -> Result<ExistentialShape, Why> {
        var names: [String] = []
        func flatten(_ t: TypeSyntax) {
            if let c = t.as(CompositionTypeSyntax.self) { for e in c.elements { flatten(e.type) } }
            else if let a = t.as(SomeOrAnyTypeSyntax.self) { flatten(a.constraint) }
            else if let p = t.as(TupleTypeSyntax.self), p.elements.count == 1 { flatten(p.elements.first!.type) }
            else { names.append(t.trimmedDescription) }
        }
        flatten(constraint)
        var shape = ExistentialShape()
        for n in names {
            if n == "Any" { continue }
            if n == "AnyObject" { shape.classBound = true; continue }
            if n == "Codable" { shape.tables += 2; continue }
            if let decl = lookup(n, scope: scope) {
                switch decl.kind {
                case .classType: shape.classBound = true; continue
                case .protocolType:
                    guard let cb = protocolIsClassBound(decl, depth: 0) else {
                        return .failure(Why(message: "protocol \(n) inherits from a protocol of another module"))
                    }
                    shape.classBound = shape.classBound || cb
                    shape.tables += 1
                    continue
                default: return .failure(Why(message: "'\(n)' is not a protocol"))
                }
            }
            switch SwiftKnownTypes.protocolKind(n) {
            case .marker: continue
            case .error: shape.isError = true
            case .classBound: shape.classBound = true; shape.tables += 1
            case .plain: shape.tables += 1
            case nil:
                let bare = String(n.prefix { $0 != "<" })
                if SwiftKnownTypes.standardClasses.contains(bare) {
                    return .failure(Why(message: "\(bare) is a class of the standard library, not a protocol"))
                }
                return .failure(Why(message: "protocol \(n) is not declared in the analyzed files (another module?)"))
            }
        }
        return .success(shape)
    }

    private func existentialLayout(witnessTables: Int, classBound: Bool) -> Resolved {
        if classBound {
            var r = model.heapReference
            r.size = 8 + 8 * witnessTables
            r.spareBits = r.spareBits! + [UInt8](repeating: 0, count: 8 * witnessTables)
            return .known(r)
        }
        var t = TypeLayout(size: 32 + 8 * witnessTables, alignment: 8, extraInhabitants: model.heapPointerExtraInhabitants)
        t.spareBitsUsable = false
        return .known(t)
    }

    /// nil when some ancestor is a protocol we do not know.
    private func protocolIsClassBound(_ decl: SwiftDeclarations.TypeDecl, depth: Int) -> Bool? {
        if decl.attributes.contains("objc") || depth > 16 { return nil }
        for inherited in decl.inherited {
            let n = inherited.trimmedDescription
            if n == "AnyObject" || n == "class" { return true }
            if let d = lookup(n, scope: decl.scope) {
                if d.kind == .classType { return true }
                if d.kind == .protocolType {
                    guard let cb = protocolIsClassBound(d, depth: depth + 1) else { return nil }
                    if cb { return true }
                    continue
                }
                return nil
            }
            switch SwiftKnownTypes.protocolKind(n) {
            case .marker, .plain: continue
            case .classBound: return true
            case .error, nil: return nil
            }
        }
        return false
    }
}
