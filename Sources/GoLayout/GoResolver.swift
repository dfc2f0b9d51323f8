/// Go's sizes and alignments on 64-bit targets (amd64, arm64), as `unsafe.Sizeof`/`Alignof` report them.
/// Types declared in the analyzed package resolve through their declarations; a few standard library types
/// whose layout is stable across Go releases are built in; anything else is reported unknown.
///
/// Scopes: a type or constant declared in a function is local to its block (GoScope); a name is looked up in
/// the blocks around the declaration being resolved, innermost first, among the local declarations that
/// precede it there, then at package level (two functions' `type args struct` are two types).
struct GoResolver {
    /// By `GoTypeDecl.key`: the name at package level, `block\0name` for local declarations.
    var declarations: [String: GoTypeDecl]
    var constants: GoConstantEvaluator
    private var cache: [String: Resolved] = [:]
    private var resolving: Set<String> = []

    init(files: [GoFile]) {
        declarations = [:]
        var all: [String: GoConstant] = [:]
        for f in files {
            for d in f.types where declarations[d.key] == nil { declarations[d.key] = d }
            all.merge(f.constants) { a, _ in a }
        }
        constants = GoConstantEvaluator(constants: all)
    }

    /// Go rejects any type this large ("larger than address space"; `types.MaxWidth` on 64-bit targets).
    static let maxSize = 1 << 50
    /// Starts the reason of an `.unknown` that is really an error: the front end reports `type T <rest>` at the
    /// field (`type [1 << 60]byte larger than address space`, as Go does).
    static let errorMarker = "\u{1}error: "
    static let tooLarge = Resolved.unknown(errorMarker + "larger than address space")
    /// Nesting deeper than this is an error rather than a stack overflow. A debug build's parser takes about
    /// 5.8 KB of stack per level (measured), so the 1 GiB analysis stack holds about 180,000.
    static let maxDepth = 100_000
    static let tooDeep = Resolved.unknown(errorMarker + "nested more than \(maxDepth) levels deep")
    private var depth = 0

    /// A struct of these fields, or too large. Offsets stay below `maxSize`, so the sums cannot overflow.
    static func structLayout(_ fields: [TypeLayout]) -> Resolved {
        var end = 0
        for f in fields {
            end = roundUp(end, f.alignment) + f.size
            if end >= maxSize { return tooLarge }
        }
        return .known(Language.go.aggregate(fields))
    }

    static func word(pointers: Bool) -> TypeLayout { TypeLayout(size: 8, alignment: 8, pointerBytes: pointers ? 8 : 0) }

    static let builtins: [String: TypeLayout] = {
        var t: [String: TypeLayout] = [:]
        for n in ["bool", "int8", "uint8", "byte"] { t[n] = TypeLayout(size: 1, alignment: 1) }
        for n in ["int16", "uint16"] { t[n] = TypeLayout(size: 2, alignment: 2) }
        for n in ["int32", "uint32", "rune", "float32"] { t[n] = TypeLayout(size: 4, alignment: 4) }
        for n in ["int", "uint", "uintptr", "int64", "uint64", "float64"] { t[n] = TypeLayout(size: 8, alignment: 8) }
        t["complex64"] = TypeLayout(size: 8, alignment: 4)
        t["complex128"] = TypeLayout(size: 16, alignment: 8)
        t["string"] = TypeLayout(size: 16, alignment: 8, pointerBytes: 8)
        t["error"] = TypeLayout(size: 16, alignment: 8, pointerBytes: 16)
        t["any"] = t["error"]
        return t
    }()

    /// Standard library types with a fixed layout in Go 1.19, by import path and name (a package of another
    /// path that happens to be named `atomic` or `sync` is not these).
    static let library: [String: TypeLayout] = {
        var t: [String: TypeLayout] = [
            "unsafe.Pointer": word(pointers: true),
            "sync.Mutex": TypeLayout(size: 8, alignment: 4),
            "sync.RWMutex": TypeLayout(size: 24, alignment: 4),
            "sync.Once": TypeLayout(size: 12, alignment: 4),
            "sync.WaitGroup": TypeLayout(size: 16, alignment: 8),
            "time.Duration": TypeLayout(size: 8, alignment: 8), "time.Month": TypeLayout(size: 8, alignment: 8),
            "time.Time": TypeLayout(size: 24, alignment: 8, pointerBytes: 24),
            "context.Context": TypeLayout(size: 16, alignment: 8, pointerBytes: 16),
            "reflect.Type": TypeLayout(size: 16, alignment: 8, pointerBytes: 16),
            "io.Reader": TypeLayout(size: 16, alignment: 8, pointerBytes: 16),
            "io.Writer": TypeLayout(size: 16, alignment: 8, pointerBytes: 16),
        ]
        // sync/atomic/type.go: each wraps a uint32/int32/uint64/... (Bool is a uint32), 64-bit ones 8-aligned.
        for (name, size) in [("Int32", 4), ("Uint32", 4), ("Bool", 4), ("Int64", 8), ("Uint64", 8), ("Uintptr", 8)] {
            t["sync/atomic.\(name)"] = TypeLayout(size: size, alignment: size)
        }
        t["sync/atomic.Pointer"] = word(pointers: true)
        t["sync/atomic.Value"] = TypeLayout(size: 16, alignment: 8, pointerBytes: 16)
        // runtime/internal/atomic/types.go: Bool wraps a Uint8 (1 byte); Float64 a Uint64.
        for (name, size) in [("Uint8", 1), ("Bool", 1), ("Int32", 4), ("Uint32", 4), ("Int64", 8), ("Uint64", 8),
                             ("Uintptr", 8), ("Float64", 8)] {
            t["runtime/internal/atomic.\(name)"] = TypeLayout(size: size, alignment: size)
        }
        t["runtime/internal/atomic.UnsafePointer"] = word(pointers: true)
        return t
    }()

    /// The dot imports of the file whose declaration is being resolved.
    private var dotImports: [String] = []
    /// Where the declaration being resolved sits (its local names are visible).
    private var scope = GoScope()

    /// Resolves a declaration's type with its file's dot imports and its block's names in scope.
    mutating func resolve(_ decl: GoTypeDecl, _ type: GoType, generics: [String: Resolved] = [:]) -> Resolved {
        let outer = (dotImports, scope)
        dotImports = decl.dotImports
        scope = decl.scope
        constants.scope = decl.scope
        defer { (dotImports, scope) = outer; constants.scope = outer.1 }
        return resolve(type, generics: generics)
    }

    /// The declaration `name` means where `scope` is: a local one declared before it in an enclosing block,
    /// else the package's.
    private func lookup(_ name: String) -> GoTypeDecl? {
        for block in scope.blocks {
            if let d = declarations[block + "\u{0}" + name], d.scope.offset <= scope.offset { return d }
        }
        return declarations[name]
    }

    mutating func resolve(_ type: GoType, generics: [String: Resolved] = [:]) -> Resolved {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { return Self.tooDeep }
        switch type {
        case .pointer, .map, .chan, .function: return .known(Self.word(pointers: true))
        case .interface: return .known(TypeLayout(size: 16, alignment: 8, pointerBytes: 16))
        case .slice: return .known(TypeLayout(size: 24, alignment: 8, pointerBytes: 8))
        case .array(let length, let text, let expression, let element):
            guard let n = length ?? constants.evaluate(expression, iota: nil) else {
                // A decimal literal beyond Int.max.
                if !text.isEmpty && text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) { return Self.tooLarge }
                return .unknown("array length '\(text)' is not a constant expression the tool evaluates")
            }
            guard n >= 0 else { return .unknown("array length '\(text)' is negative") }
            let e = resolve(element, generics: generics)
            guard let el = e.layout else { return e }
            let (size, overflow) = n.multipliedReportingOverflow(by: el.size)
            if overflow || size >= Self.maxSize { return Self.tooLarge }
            let pb = el.pointerBytes > 0 && n > 0 ? (n - 1) * el.size + el.pointerBytes : 0
            return .known(TypeLayout(size: size, alignment: el.alignment, pointerBytes: pb))
        case .structType(let fields):
            var layouts: [TypeLayout] = []
            for f in fields {
                let r = resolve(f.type, generics: generics)
                guard let l = r.layout else { return r }
                layouts.append(contentsOf: repeatElement(l, count: f.fieldNames.count))
            }
            return Self.structLayout(layouts)
        case .named(let pkg, let name, let args):
            if let pkg {
                guard let path = pkg.path else { return .unknown("\(pkg.name).\(name): no import of the file is named \(pkg.name)") }
                if let t = Self.library["\(path).\(name)"] { return .known(t) }
                return .unknown("type \(pkg.name).\(name) from package \"\(path)\" (not analyzed)")
            }
            if let g = generics[name] { return g }
            if let decl = lookup(name) {
                let key = decl.key
                if decl.typeParameters.isEmpty {
                    if let cached = cache[key] { return cached }
                    guard !resolving.contains(key) else { return .unknown("recursive type \(name)") }
                    resolving.insert(key)
                    let r = resolve(decl, decl.type)
                    resolving.remove(key)
                    cache[key] = r
                    return r
                }
                guard args.count == decl.typeParameters.count else {
                    return .unknown("generic type \(name) without its type arguments")
                }
                // A generic type holding an instance of itself by value is an illegal cycle in Go (and would
                // recurse forever here: `S[P] struct { f S[*P] }`).
                guard !resolving.contains(key) else { return .unknown("recursive type \(name)") }
                var env: [String: Resolved] = [:]
                for (param, arg) in zip(decl.typeParameters, args) { env[param] = resolve(arg, generics: generics) }
                resolving.insert(key)
                defer { resolving.remove(key) }
                return resolve(decl, decl.type, generics: env)
            }
            // Dot-imported names sit in the file block, inside the universe: they shadow the builtins.
            for path in dotImports {
                if let t = Self.library["\(path).\(name)"] { return .known(t) }
            }
            if !dotImports.isEmpty && Self.builtins[name] == nil {
                return .unknown("type \(name) is not declared in the analyzed files (or comes from a dot import)")
            }
            if let b = Self.builtins[name] { return .known(b) }
            return .unknown("type \(name) is not declared in the analyzed files")
        }
    }
}
