/// One stored field as a front end found it.
public struct FieldDecl: Sendable {
    public var name: String
    /// The type as written (Swift: including `?`; Go: including `*`, `[]`).
    public var typeText: String
    public var line: Int
    public var column: Int
    public var resolved: Resolved
    /// UTF-8 byte range in the file of the whole member, with its leading comments and attributes, used by
    /// `--fix` to move it. Go: nil when the line also declares other fields (`a, b int`).
    public var sourceRange: Range<Int>?

    public init(name: String, typeText: String, line: Int, column: Int, resolved: Resolved, sourceRange: Range<Int>? = nil) {
        self.name = name; self.typeText = typeText; self.line = line; self.column = column
        self.resolved = resolved; self.sourceRange = sourceRange
    }
}

/// Facts about a struct that decide whether reordering its fields is safe.
public struct StructTraits: Sendable, Hashable {
    /// `@frozen`: its layout is ABI; reordering breaks clients compiled against it.
    public var isFrozen = false
    /// Conforms to Codable, Encodable or Decodable in its declaration: synthesized key order follows fields.
    public var isCodable = false
    /// Go: why the field order is a wire format (struct tags, encoding/binary); nil when it is not.
    public var wireFormat: String?
    /// No `init` in the struct body: the implicit memberwise initializer's argument order follows fields.
    public var hasMemberwiseInit = false
    /// Fields that could not be moved (several fields on one line, `#if` blocks, ...), with why.
    public var fixBlocker: String?
    public init() {}
}

/// One struct as a front end found it, with every field resolved or marked unknown.
public struct StructDecl: Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    /// Qualified with its enclosing types: `Outer.Inner`.
    public var name: String
    public var language: Language
    public var fields: [FieldDecl]
    public var traits: StructTraits
    /// UTF-8 byte range of the member block (between the braces), for `--fix`.
    public var bodyRange: Range<Int>?

    public init(file: String, line: Int, column: Int, name: String, language: Language, fields: [FieldDecl],
                traits: StructTraits = StructTraits(), bodyRange: Range<Int>? = nil) {
        self.file = file; self.line = line; self.column = column; self.name = name; self.language = language
        self.fields = fields; self.traits = traits; self.bodyRange = bodyRange
    }
}
