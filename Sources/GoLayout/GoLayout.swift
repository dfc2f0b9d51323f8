// GoLayout: struct layout, padding and the best field order, for Swift and Go sources.
//
// Design. Three layers, each ignorant of the one above:
//   1. The engine (TypeLayout, Language, EnumLayout, OptimalOrder) knows only sizes, alignments, extra
//      inhabitants and spare bits. Language.place is the whole of struct layout; the Swift/Go difference is
//      one rule (Go rounds size up to alignment and pads a zero-size tail field; Swift keeps size = end of
//      last field and lets the next field start inside a nested struct's tail padding).
//   2. Front ends turn source into StructDecls whose fields are Resolved: a TypeLayout, or .unknown(why).
//      SwiftFrontEnd parses with swift-syntax, collects every declaration of every file first, then resolves
//      (SwiftResolver, SwiftProperties, SwiftKnownTypes; SwiftIfConfig picks `#if` branches). GoFrontEnd has
//      its own small lexer and parser for imports, constants and type declarations (GoTokenizer, GoParser,
//      GoConstants, GoResolver); GoBuildConstraints picks a directory's files as go/build does for linux/amd64. Nothing is guessed: a type from another module,
//      an opaque `some P`, a property wrapper we cannot see, a field under an undecidable `#if`, all come back unknown, and a
//      struct with an unknown field reports offsets only up to that field and no totals.
//   3. LayoutAnalyzer walks paths and runs the front ends (files in parallel); StructReport is the result
//      per struct (also the JSON schema); TextReport prints pahole-style tables and diagnostics;
//      FieldReorder rewrites sources for `--fix`.
//
// Ground truth: the tests compile hundreds of random structs with swiftc and go and compare every offset,
// size, alignment and stride with MemoryLayout and unsafe.Sizeof/Alignof/Offsetof.

import Foundation

/// Finds Swift and Go sources under paths and analyzes them.
public struct LayoutAnalyzer: Sendable {
    public var model: DataModel
    public init(model: DataModel = .host) { self.model = model }

    public struct InputError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Files named directly must be .swift or .go; directories (a symlink named here is followed) are searched
    /// for .swift and .go regular files, skipping hidden entries (`.build`, `.git`), `vendor`, `node_modules`
    /// and symlinks to directories inside the walk, and Go files that Go would
    /// not build on linux/amd64 by their name (`_test.go`, `x_windows.go`; see GoBuildConstraints). Each file
    /// is listed once.
    public func sourceFiles(_ paths: [String]) throws -> [String] { try collectFiles(paths).map(\.path) }

    /// The files, each with whether it was named on the command line (then it is read whatever its build
    /// constraints say, as `go run file.go` does).
    func collectFiles(_ paths: [String]) throws -> [(path: String, named: Bool)] {
        var files: [(path: String, named: Bool)] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw InputError(description: "\(path): no such file or directory")
            }
            if !isDir.boolValue {
                guard path.hasSuffix(".swift") || path.hasSuffix(".go") else {
                    throw InputError(description: "\(path): not a .swift or .go file")
                }
                files.append((path, true)); continue
            }
            var found: [String] = []
            try walk(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path, into: &found)
            files.append(contentsOf: found.sorted().map { ($0, false) })
        }
        // A file named twice (`a.go ./a.go`, a directory and a file in it, a symlink) is analyzed once; named
        // on the command line wins.
        let named = Set(files.filter(\.named).map { Self.canonical($0.path) })
        var seen = Set<String>()
        return files.compactMap { f in
            let key = Self.canonical(f.path)
            guard seen.insert(key).inserted else { return nil }
            return (f.path, named.contains(key))
        }
    }

    /// Source files under a directory (the directory itself may be reached through a symlink, as `find -H`).
    /// Only regular files, and symlinks to regular files, are sources: a directory named `x.go` is walked.
    /// Symlinks to directories inside the walk are not followed (as gofmt), so cycles cannot arise. Go files
    /// under a `testdata` directory or one whose name starts with `_` are not read, as the go command ignores
    /// them (Go's own tree keeps deliberately broken files there); Swift files are (swift-syntax has
    /// `Sources/_SwiftSyntaxCShims`).
    private func walk(_ dir: String, into found: inout [String], goIgnored: Bool = false) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else {
            throw InputError(description: "\(dir): cannot read directory")
        }
        for name in names.sorted() {
            if name.hasPrefix(".") { continue }
            let path = dir + "/" + name
            // attributesOfItem does not follow a symlink: it says what the entry itself is.
            let type = (try? fm.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
            if type == .typeDirectory {
                if name != "vendor" && name != "node_modules" {
                    try walk(path, into: &found, goIgnored: goIgnored || name == "testdata" || name.hasPrefix("_"))
                }
                continue
            }
            guard name.hasSuffix(".swift")
                || (!goIgnored && name.hasSuffix(".go") && GoBuildConstraints.fileNameMatches(name)) else { continue }
            if type == .typeRegular { found.append(path); continue }
            var isDir: ObjCBool = false
            if type == .typeSymbolicLink, fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
               (try? fm.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath))?[.type] as? FileAttributeType == .typeRegular {
                found.append(path)
            }
        }
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Reads a file as UTF-8 text; binary (a NUL byte, or invalid UTF-8) is an error.
    public static func readSource(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(description: "\(path): cannot read file")
        }
        if data.contains(0) { throw InputError(description: "\(path): binary file, not source") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(description: "\(path): not UTF-8 text")
        }
        return text
    }

    /// All structs in the files: Swift files together (types resolve across files), Go files per directory
    /// and package clause (see GoFrontEnd).
    public func analyze(_ paths: [String]) throws -> [StructReport] { try structs(paths).map(StructReport.init) }

    /// The structs as the front ends found them (what `--fix` needs: source ranges and traits). `overrides`
    /// replaces the contents of files by path (`--fix` checks its rewrite before writing it).
    public func structs(_ paths: [String], overrides: [String: String] = [:]) throws -> [StructDecl] {
        try structs(paths, overrides: overrides, skipUnparsable: false).structs
    }

    /// As `structs`, but a file that does not parse is left out and returned with its first error instead of
    /// ending the run (`gort layout` warns about each and goes on).
    public func structsSkippingUnparsable(_ paths: [String], overrides: [String: String] = [:]) throws
        -> (structs: [StructDecl], skipped: [SourceError]) {
        try structs(paths, overrides: overrides, skipUnparsable: true)
    }

    private func structs(_ paths: [String], overrides: [String: String],
                         skipUnparsable: Bool) throws -> (structs: [StructDecl], skipped: [SourceError]) {
        let listed = try collectFiles(paths)
        let files = listed.map(\.path)
        var sources = files.map { overrides[$0] }
        var firstError: Error?
        let lock = NSLock()
        sources.withUnsafeMutableBufferPointer { out in
            let buffer = out
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                if buffer[i] != nil { return }
                do { buffer[i] = try Self.readSource(files[i]) } catch {
                    lock.lock(); if firstError == nil { firstError = error }; lock.unlock()
                }
            }
        }
        if let firstError { throw firstError }
        var swiftFiles: [(path: String, source: String)] = []
        var goPackages: [String: [(path: String, source: String)]] = [:]
        for (file, source) in zip(listed, sources) {
            let path = file.path
            if path.hasSuffix(".go") {
                // Found by walking: only if Go would build it for linux/amd64 (its build constraints).
                guard file.named || GoBuildConstraints.satisfied(by: source!) else { continue }
                goPackages[(path as NSString).deletingLastPathComponent, default: []].append((path, source!))
            }
            else { swiftFiles.append((path, source!)) }
        }
        // Deeply nested types recurse deeply: analyze on a large stack (see withLargeStack).
        return try withLargeStack {
            var (decls, skipped) = try SwiftFrontEnd.analyze(files: swiftFiles, model: model, skipUnparsable: skipUnparsable)
            for dir in goPackages.keys.sorted() {
                let go = try GoFrontEnd.analyze(files: goPackages[dir]!, skipUnparsable: skipUnparsable)
                decls += go.structs
                skipped += go.skipped
            }
            return (decls, skipped)
        }
    }
}
