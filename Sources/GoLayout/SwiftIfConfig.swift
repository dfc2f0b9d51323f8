import SwiftSyntax

/// Which branch of a `#if` the compiler would take for the target, when the tool can know it.
///
/// Decidable conditions: `os(...)` (on Linux targets every `os` is known; on Darwin ones only that it is not
/// Linux, Windows, Android, ...: macOS and iOS look alike), `arch(x86_64)`, `arch(arm64)` (any other arch is
/// false), `_endian(little)`, `_pointerBitWidth(_64)`, `targetEnvironment(...)` on Linux, `true`, `false`, and
/// `!`, `&&`, `||`, parentheses over them (three-valued: `false && x` is false, `true || x` true), and version
/// checks against the compiler the tool was built with (`hostCompiler`): `compiler(>=X)`, `compiler(<X)`;
/// `swift(>=X)`, `swift(<X)` (the language mode) when modes 5 (5.10) and 6 (the compiler's version) agree:
/// `swift(>=5.9)` is true, `swift(>=7)` false, `swift(>=6)` undecided; the obsolete modes 4 and 4.2 are
/// not considered. swiftc
/// does not parse a branch such a check disables, so its syntax need not parse here either (SwiftFrontEnd).
/// Unknowable: `canImport`, `hasFeature`, `hasAttribute`, and custom flags such as `DEBUG`.
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
            case "compiler": return Self.versionCheck(argument, against: Self.hostCompiler)
            case "swift":
                // The language mode's version: 5.10 in mode 5, the compiler's in mode 6; decided when both agree.
                guard let five = Self.versionCheck(argument, against: [5, 10]),
                      let six = Self.versionCheck(argument, against: Self.hostCompiler) else { return nil }
                return five == six ? five : nil
            default: return nil
            }
        }
        return nil
    }

    /// The version of the compiler this tool was built with (its swift-syntax parses what it accepts).
    static let hostCompiler: [Int] = {
        #if compiler(>=7.0)
        return [7, 0]
        #elseif compiler(>=6.4)
        return [6, 4]
        #elseif compiler(>=6.3.1)
        return [6, 3, 1]
        #elseif compiler(>=6.3)
        return [6, 3]
        #else
        return [6, 0]
        #endif
    }()

    /// `>=X` or `<X` against `version`; nil when the argument is not such a check.
    static func versionCheck(_ argument: String, against version: [Int]) -> Bool? {
        let text = argument.filter { !$0.isWhitespace }
        let atLeast = text.hasPrefix(">=")
        guard atLeast || text.hasPrefix("<") else { return nil }
        let parts = text.dropFirst(atLeast ? 2 : 1).split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.count <= 5, parts.allSatisfy({ $0 != nil }) else { return nil }
        let wanted = parts.map { $0! }
        let n = max(wanted.count, version.count)
        let pad = { (v: [Int]) in v + [Int](repeating: 0, count: n - v.count) }
        let geq = !pad(version).lexicographicallyPrecedes(pad(wanted))
        return atLeast ? geq : !geq
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
