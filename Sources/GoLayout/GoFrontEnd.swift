/// Go front end: every struct type declared in a set of `.go` files of one directory, with Go's layout.
public enum GoFrontEnd {
    /// Files of the same directory; pass them together so their types resolve. Files are grouped by their
    /// package clause and each package is resolved on its own (a directory may hold `package main` files
    /// next to the library, e.g. generators excluded only by a constraint the caller did not apply).
    public static func structs(files: [(path: String, source: String)]) throws -> [StructDecl] {
        try analyze(files: files, skipUnparsable: false).structs
    }

    /// The structs, and the files that do not parse: with `skipUnparsable` they are left out of their package
    /// (and returned), else the first one throws.
    static func analyze(files: [(path: String, source: String)],
                        skipUnparsable: Bool) throws -> (structs: [StructDecl], skipped: [SourceError]) {
        var parsed: [(String, GoFile)] = []
        var skipped: [SourceError] = []
        for (path, source) in files {
            let error: SourceError
            do {
                var parser = try GoParser(source: source[...].utf8, file: path)
                parsed.append((path, try parser.parseFile()))
                continue
            } catch let e as GoParser.Failure {
                error = SourceError(file: path, line: e.line, column: e.column, message: e.message)
            } catch GoLexError.unterminated(let what, let line) {
                error = SourceError(file: path, line: line, column: 1, message: "unterminated \(what)")
            }
            if !skipUnparsable { throw error }
            skipped.append(error)
        }
        var packages: [String: [(String, GoFile)]] = [:]
        var order: [String] = []
        for (path, file) in parsed {
            if packages[file.packageName] == nil { order.append(file.packageName) }
            packages[file.packageName, default: []].append((path, file))
        }
        return (try order.flatMap { try structs(package: packages[$0]!) }, skipped)
    }

    private static func structs(package parsed: [(String, GoFile)]) throws -> [StructDecl] {
        var resolver = GoResolver(files: parsed.map(\.1))
        let binaryTypes = parsed.reduce(into: Set<String>()) { $0.formUnion($1.1.binaryTypes) }
        var result: [StructDecl] = []
        for (path, file) in parsed {
            for decl in file.types {
                guard case .structType(let fields) = decl.type, !decl.isAlias else { continue }
                var out: [FieldDecl] = []
                for f in fields {
                    var r = resolver.resolve(decl, f.type, generics: decl.typeParameters.reduce(into: [:]) {
                        $0[$1] = .unknown("type parameter \($1)")
                    })
                    if case .unknown = r, !decl.typeParameters.isEmpty, case .named(nil, let n, _) = f.type,
                       decl.typeParameters.contains(n) { r = .unknown("type parameter \(n)") }
                    if case .unknown(let why) = r, why.hasPrefix(GoResolver.errorMarker) {
                        throw SourceError(file: path, line: f.line, column: f.column,
                                          message: "type \(f.typeText) \(why.dropFirst(GoResolver.errorMarker.count))")
                    }
                    let shared = f.fieldNames.count > 1
                    for name in f.fieldNames {
                        out.append(FieldDecl(name: name, typeText: f.typeText, line: f.line, column: f.column,
                                             resolved: r, sourceRange: shared ? nil : f.range))
                    }
                }
                let layouts = out.compactMap(\.resolved.layout)
                if layouts.count == out.count, case .unknown = GoResolver.structLayout(layouts) {
                    throw SourceError(file: path, line: decl.line, column: decl.column,
                                      message: "type \(decl.name) larger than address space")
                }
                var traits = StructTraits()
                if fields.contains(where: { $0.fieldNames.count > 1 }) {
                    traits.fixBlocker = "declares several fields on one line"
                }
                if let tagged = fields.first(where: { $0.tag != nil }) {
                    traits.wireFormat = "field \(tagged.fieldNames[0]) has a struct tag (\(tagged.tag!)); encoders follow field order"
                } else if binaryTypes.contains(decl.name) {
                    traits.wireFormat = "it is passed to encoding/binary, which lays fields out in order"
                }
                result.append(StructDecl(file: path, line: decl.line, column: decl.column, name: decl.name,
                                         language: .go, fields: out, traits: traits, bodyRange: decl.bodyRange))
            }
        }
        return result
    }
}

/// A file the front ends cannot read, with the position of the problem.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}
