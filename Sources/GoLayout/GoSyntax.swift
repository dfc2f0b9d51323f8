/// Go type expressions as the Go front end parses them.
indirect enum GoType {
    /// `T`, `pkg.T`, `T[A, B]`; `package` is the qualifier resolved through the file's imports.
    case named(package: GoQualifier?, name: String, arguments: [GoType])
    case pointer(GoType)
    case slice(GoType)
    /// `[N]T`; `length` is set when the length is an integer literal, else `lengthExpression` is evaluated
    /// over the package's constants (GoConstants).
    case array(length: Int?, lengthText: String, lengthExpression: [GoLexeme], element: GoType)
    case map, chan, function, interface
    case structType([GoField])
}

/// The `pkg` of `pkg.T`: the name as written and the import path it names in its file (nil when no import
/// of the file declares that name).
struct GoQualifier {
    var name: String
    var path: String?
}

struct GoField {
    /// Empty for an embedded field; its name is then the type's name.
    var names: [String]
    var type: GoType
    var typeText: String
    var line: Int
    var column: Int
    /// Byte range of the field's whole line(s), comments included, for `--fix`.
    var range: Range<Int>
    /// The struct tag as written (`` `json:"id"` ``), if any.
    var tag: String?

    var fieldNames: [String] {
        if !names.isEmpty { return names }
        var t = type
        if case .pointer(let inner) = t { t = inner }
        if case .named(_, let name, _) = t { return [name] }
        return ["_"]
    }
}

/// Where a declaration sits: the blocks around it, innermost first (empty at package level), each keyed
/// `file#token` so keys are unique in a package, and its byte offset (a local name is visible from its
/// declaration on: Go's scope of a type or constant declared in a function starts at its spec).
struct GoScope: Hashable {
    var blocks: [String] = []
    var offset = 0
}

struct GoTypeDecl {
    var name: String
    var typeParameters: [String]
    var isAlias: Bool
    var type: GoType
    var line: Int
    var column: Int
    /// For struct types, the byte range between the braces.
    var bodyRange: Range<Int>?
    /// Import paths of the declaring file's dot imports (`import . "sync/atomic"`): unqualified names the
    /// package does not declare may come from them.
    var dotImports: [String] = []
    /// Package level, or the blocks of the function that declares it.
    var scope = GoScope()
    /// The resolver's key: the name, or `block\0name` for a local declaration.
    var key: String { scope.blocks.first.map { $0 + "\u{0}" + name } ?? name }
}

struct GoFile {
    var packageName: String
    var types: [GoTypeDecl]
    /// Import name to import path (`import a "sync/atomic"`; without a name, the path's last element, or the
    /// one before a `/vN` major-version suffix). Blank imports bind nothing; dot imports are in `dotImports`.
    var imports: [String: String] = [:]
    var dotImports: [String] = []
    /// Names that may be the types of values passed to encoding/binary in this file (GoWireFormat).
    var binaryTypes: Set<String> = []
    /// Constants by name, unevaluated, for array lengths (first declaration wins); local ones by
    /// `block\0name` (see GoConstant).
    var constants: [String: GoConstant]
}
