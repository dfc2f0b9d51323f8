/// The layout of one struct: what `gort layout` prints and what `--format json` emits (see docs/layout.md).
public struct StructReport: Codable, Sendable {
    public struct Field: Codable, Sendable {
        public var name: String
        public var type: String
        public var line: Int
        public var offset: Int?
        public var size: Int?
        public var alignment: Int?
        /// Bytes of padding between the previous field's end and this field.
        public var paddingBefore: Int?
        /// Why this field's layout is not known ("unknown: type from module X").
        public var unknown: String?
    }

    public var file: String
    public var line: Int
    public var column: Int
    public var name: String
    public var language: Language
    public var fields: [Field]
    /// Nil when any field is unknown: no total is stated that might be wrong.
    public var size: Int?
    public var alignment: Int?
    public var stride: Int?
    /// stride - (end of last field): the padding after the last field in an array.
    public var trailingPadding: Int?
    /// Holes between fields plus trailing padding, in one stride.
    public var paddingBytes: Int?
    /// stride - optimalStride: what the best order saves per value.
    public var wastedBytes: Int?
    /// Go only: bytes the GC must scan (ptrdata), now and in the suggested order.
    public var pointerBytes: Int?
    public var optimalPointerBytes: Int?
    public var optimalOrder: [String]?
    public var optimalSize: Int?
    public var optimalStride: Int?
    /// False when the suggested order comes from the heuristic (too many distinct fields for exact search).
    public var optimalExact: Bool?
    /// Set when the struct's layout is unknown because some field is.
    public var unknown: String?

    /// True when reordering would shrink the stride.
    public var canShrink: Bool { (wastedBytes ?? 0) > 0 }
    /// Go: true when reordering would keep the size and shrink the bytes the GC scans (fieldalignment's
    /// "struct with N pointer bytes could be M").
    public var canScanLess: Bool {
        guard let now = pointerBytes, let best = optimalPointerBytes else { return false }
        return best < now
    }
    /// What `--check` reports and `--fix` rewrites: a smaller stride, or (Go) fewer pointer bytes.
    public var isFinding: Bool { canShrink || canScanLess }
}

extension StructReport {
    public init(_ decl: StructDecl) {
        file = decl.file; line = decl.line; column = decl.column; name = decl.name; language = decl.language
        let layouts = decl.fields.map(\.resolved.layout)
        fields = decl.fields.map { f in
            var unknown: String?
            if case .unknown(let why) = f.resolved { unknown = why }
            return Field(name: f.name, type: f.typeText, line: f.line, offset: nil, size: f.resolved.layout?.size,
                         alignment: f.resolved.layout?.alignment, paddingBefore: nil, unknown: unknown)
        }
        if let firstUnknown = fields.firstIndex(where: { $0.unknown != nil }) {
            unknown = "field '\(fields[firstUnknown].name)': \(fields[firstUnknown].unknown!)"
            // Offsets before the first unknown field are still exact.
            let prefix = layouts[..<firstUnknown].map { $0! }
            Self.fill(&fields, prefix, language.place(Array(prefix)))
            return
        }
        let known = layouts.map { $0! }
        let placed = language.place(known)
        Self.fill(&fields, known, placed)
        size = placed.size
        alignment = placed.alignment
        stride = placed.stride
        trailingPadding = placed.stride - placed.fieldsEnd
        paddingBytes = placed.stride - known.reduce(0) { $0 + $1.size }
        let best = OptimalOrder.best(known, language: language)
        optimalOrder = best.order.map { Self.distinctName(decl.fields, $0) }
        optimalSize = best.placement.size
        optimalStride = best.placement.stride
        optimalExact = best.exact
        wastedBytes = placed.stride - best.placement.stride
        if language == .go {
            pointerBytes = language.aggregate(known).pointerBytes
            optimalPointerBytes = language.aggregate(best.order.map { known[$0] }).pointerBytes
        }
    }

    /// Offsets, and the padding before each field: the gap after the furthest end so far. A Swift empty field
    /// sits at offset 0 inside earlier fields; it has no padding before it and does not move the end back.
    static func fill(_ fields: inout [Field], _ layouts: [TypeLayout], _ placed: Placement) {
        var end = 0
        for i in layouts.indices {
            let offset = placed.offsets[i]
            fields[i].offset = offset
            fields[i].paddingBefore = max(0, offset - end)
            end = max(end, offset + layouts[i].size)
        }
    }

    /// A field's name in `optimalOrder`: Go's blank fields (`_`) may repeat, so each is named by its position
    /// in declaration order, `_#3` for the third field.
    static func distinctName(_ fields: [FieldDecl], _ i: Int) -> String {
        fields[i].name == "_" ? "_#\(i + 1)" : fields[i].name
    }
}
