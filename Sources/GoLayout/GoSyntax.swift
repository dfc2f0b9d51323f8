/// Go type expressions as the Go front end parses them.
indirect enum GoType {
    /// `T`, `pkg.T`, `T[A, B]`.
    case named(package: String?, name: String, arguments: [GoType])
    case pointer(GoType)
    case slice(GoType)
    /// `[N]T`; `length` is nil when the length expression is not a literal or known constant.
    case array(length: Int?, lengthText: String, element: GoType)
    case map, chan, function, interface
    case structType([GoField])
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

    var fieldNames: [String] {
        if !names.isEmpty { return names }
        var t = type
        if case .pointer(let inner) = t { t = inner }
        if case .named(_, let name, _) = t { return [name] }
        return ["_"]
    }
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
}

struct GoFile {
    var packageName: String
    var types: [GoTypeDecl]
    /// Integer constants with literal values (`const N = 8`), for array lengths.
    var constants: [String: Int]
}
