import SwiftParser
import SwiftSyntax

/// Stored properties: what each one really stores.
/// - `lazy var x: T` stores `T?`; `weak` stores a nullable reference with no extra inhabitants (plus one
///   witness table per protocol for a class existential);
///   `unowned` stores a reference;
/// - `@W var x: T` stores the wrapper `W<T>` (or `W`), outermost attribute outermost;
/// - without a type annotation, only literals and `T(...)` calls are inferred.
extension SwiftResolver {
    func property(_ p: SwiftDeclarations.StoredProperty, scope: [String], env: Environment) -> Resolved {
        if p.configUndecided { return .unknown("declared inside #if: layout depends on the build configuration") }
        var base: Resolved
        if let type = p.type { base = resolve(type, scope: scope, env: env) }
        else if let initializer = p.initializer { base = inferred(initializer, scope: scope, env: env) }
        else { return .unknown("no type annotation") }
        for attribute in p.attributes.reversed() {
            if let first = attribute.first, first.isLowercase || first == "_" { continue }
            if ["MainActor", "NSCopying", "NSManaged", "IBOutlet", "IBInspectable", "Sendable"].contains(attribute) { continue }
            let simple = String(attribute.split(separator: "<").first ?? "")
            guard let decl = lookup(simple, scope: scope) else {
                return .unknown("attribute @\(attribute) may be a property wrapper from another module")
            }
            if decl.attributes.contains("globalActor") { continue }
            guard decl.attributes.contains("propertyWrapper") else { continue }
            switch decl.genericParameters.count {
            case 0: base = resolveDecl(decl, args: [])
            case 1:
                // The wrapped value is a generic struct field: resolve its type again at full abstraction.
                if decl.kind == .structType, let type = p.type, p.attributes.last == attribute {
                    thickMetatypes += 1
                    let abstract = resolve(type, scope: scope, env: env)
                    thickMetatypes -= 1
                    base = resolveDecl(decl, args: [abstract])
                } else {
                    base = resolveDecl(decl, args: [base])
                }
            default: return .unknown("property wrapper @\(attribute) with several generic parameters")
            }
        }
        if p.isLazy { base = optional(base) }
        if let ownership = p.ownership {
            guard let l = base.layout else { return base }
            // A class existential (`any CP`, CP class-bound) keeps its witness tables next to the reference:
            // `weak var a: (any CP & CP2)?` is 24 bytes, `unowned var a: any CP` 16 (measured).
            let tables = p.type.flatMap { classReferenceTables($0, scope: scope) } ?? (l.size == 8 ? 0 : nil)
            if ownership == "weak" {
                // Like an opaque existential, a weak reference takes every spare bit from what holds it
                // (measured: `enum { case a(S), b(Int8) }` with `S { weak var k: K?; lazy var x: Int }` is 18).
                // A bare weak reference has no extra inhabitants (`S?` of `S { weak var x: AnyObject?; var b:
                // Int8 }` is 10); a weak existential's witness table pointers do (`W?` is 16 for a 16-byte W).
                let size = 8 + 8 * (tables ?? 0)
                var t = tables.map { $0 > 0 } == true
                    ? TypeLayout(size: size, alignment: 8, extraInhabitants: model.heapPointerExtraInhabitants,
                                 extraInhabitantsExact: false, spareBits: [UInt8](repeating: 0, count: size))
                    : TypeLayout.plain(size, 8)
                t.spareBitsUsable = false
                return .known(t)
            }
            guard let tables else { return .unknown("\(ownership) of a non-class type") }
            // An unowned reference keeps a native heap pointer's spare bits (measured: `enum { case a(Int8?),
            // b(W), c }` with `struct W { unowned var k: K }` is 8 bytes, its tag in W's spare bits); witness
            // tables add words without spare bits (`enum { case a(U), b(Int8), c }` with U = `unowned var a: any
            // CP` is 16).
            return .known(TypeLayout(size: 8 + 8 * tables, alignment: 8, extraInhabitants: 255, extraInhabitantsExact: false,
                                     spareBits: model.spareMask(model.heapPointerSpareBits)
                                         + [UInt8](repeating: 0, count: 8 * tables)))
        }
        return base
    }

    /// The type of `var x = <expr>` when the expression says it plainly.
    func inferred(_ e: ExprSyntax, scope: [String], env: Environment) -> Resolved {
        if e.is(IntegerLiteralExprSyntax.self) { return known.lookup("Int", [])! }
        if e.is(FloatLiteralExprSyntax.self) { return known.lookup("Double", [])! }
        if e.is(BooleanLiteralExprSyntax.self) { return known.lookup("Bool", [])! }
        if e.is(StringLiteralExprSyntax.self) { return known.lookup("String", [])! }
        if e.is(ArrayExprSyntax.self) { return .known(model.heapReference) }
        if e.is(DictionaryExprSyntax.self) { return known.lookup("Dictionary", [.unknown(""), .unknown("")])! }
        if let p = e.as(PrefixOperatorExprSyntax.self), p.operator.text == "-",
           p.expression.is(IntegerLiteralExprSyntax.self) || p.expression.is(FloatLiteralExprSyntax.self) {
            return inferred(p.expression, scope: scope, env: env)
        }
        if let call = e.as(FunctionCallExprSyntax.self), call.trailingClosure == nil {
            var callee = call.calledExpression.trimmedDescription
            if callee.hasSuffix(".init") { callee.removeLast(5) }
            if let first = callee.first, first.isUppercase || first == "[" {
                var parser = Parser(callee)
                let type = TypeSyntax.parse(from: &parser)
                if !type.hasError, type.trimmedDescription == callee { return resolve(type, scope: scope, env: env) }
            }
        }
        return .unknown("type inferred from the initializer '\(e.trimmedDescription.prefix(40))'")
    }
}
