import SwiftSyntax

/// Which branch of a `#if` the compiler would take for the target, when the tool can know it.
///
/// Decidable conditions: `os(...)` (on Linux targets every `os` is known; on Darwin ones only that it is not
/// Linux, Windows, Android, ...: macOS and iOS look alike), `arch(x86_64)`, `arch(arm64)` (any other arch is
/// false), `_endian(little)`, `_pointerBitWidth(_64)`, `targetEnvironment(...)` on Linux, `true`, `false`, and
/// `!`, `&&`, `||`, parentheses over them (three-valued: `false && x` is false, `true || x` true). Unknowable:
/// `canImport`, `swift(...)` (the language mode), `compiler(...)`, `hasFeature`, `hasAttribute`, and custom
/// flags such as `DEBUG`.
///
/// The rule (the same at file scope and inside a type): when the branch is decided, only its declarations
/// exist; when it is not, the declarations of every branch that may be taken are read. Structs there are
/// reported; stored properties there are unknown; a type declared in two of them resolves to unknown.
struct SwiftIfConfig {
    let model: DataModel

    enum Choice: Equatable {
        /// The taken clause's index, nil when none is (no `#else` and every condition false).
        case decided(Int?)
        /// Clauses that may be taken.
        case undecided([Int])
    }

    func choose(_ clauses: IfConfigClauseListSyntax) -> Choice {
        var possible: [Int] = []
        for (i, clause) in clauses.enumerated() {
            switch clause.condition.map(evaluate) ?? true {
            case false?: continue
            case true?: return possible.isEmpty ? .decided(i) : .undecided(possible + [i])
            case nil: possible.append(i)
            }
        }
        return possible.isEmpty ? .decided(nil) : .undecided(possible)
    }

    /// The clauses to read, and whether the choice was undecided.
    func clausesToRead(_ ifc: IfConfigDeclSyntax) -> (clauses: [IfConfigClauseSyntax], undecided: Bool) {
        let all = Array(ifc.clauses)
        switch choose(ifc.clauses) {
        case .decided(let i): return (i.map { [all[$0]] } ?? [], false)
        case .undecided(let list): return (list.map { all[$0] }, true)
        }
    }

    /// True, false, or nil when the tool cannot know.
    func evaluate(_ e: ExprSyntax) -> Bool? {
        if let b = e.as(BooleanLiteralExprSyntax.self) { return b.literal.tokenKind == .keyword(.true) }
        if let t = e.as(TupleExprSyntax.self), t.elements.count == 1 { return evaluate(t.elements.first!.expression) }
        if let p = e.as(PrefixOperatorExprSyntax.self), p.operator.text == "!" { return evaluate(p.expression).map { !$0 } }
        if let s = e.as(SequenceExprSyntax.self) {
            // Unfolded `a && b || c`: `&&` binds tighter.
            var terms: [[ExprSyntax]] = [[]]
            for element in s.elements {
                if let op = element.as(BinaryOperatorExprSyntax.self) {
                    if op.operator.text == "||" { terms.append([]) } else if op.operator.text != "&&" { return nil }
                } else {
                    terms[terms.count - 1].append(element)
                }
            }
            return or(terms.map { and($0.map(evaluate)) })
        }
        if let i = e.as(InfixOperatorExprSyntax.self), let op = i.operator.as(BinaryOperatorExprSyntax.self) {
            let (l, r) = (evaluate(i.leftOperand), evaluate(i.rightOperand))
            switch op.operator.text {
            case "&&": return and([l, r])
            case "||": return or([l, r])
            default: return nil
            }
        }
        if let call = e.as(FunctionCallExprSyntax.self), let callee = call.calledExpression.as(DeclReferenceExprSyntax.self),
           call.arguments.count == 1 {
            let argument = call.arguments.first!.expression.trimmedDescription
            switch callee.baseName.text {
            case "os":
                if !model.isDarwin { return argument == "Linux" }
                return ["macOS", "OSX", "iOS", "tvOS", "watchOS", "visionOS"].contains(argument) ? nil : false
            case "arch": return argument == (model.isX86 ? "x86_64" : "arm64")
            case "_endian": return argument == "little"
            case "_pointerBitWidth": return argument == "_64"
            case "targetEnvironment": return model.isDarwin ? nil : false
            default: return nil
            }
        }
        return nil
    }

    private func and(_ values: [Bool?]) -> Bool? {
        if values.contains(false) { return false }
        return values.allSatisfy { $0 == true } ? true : nil
    }

    private func or(_ values: [Bool?]) -> Bool? {
        if values.contains(true) { return true }
        return values.allSatisfy { $0 == false } ? false : nil
    }
}
