// GoLayout: struct layout, padding and the best field order, for Swift and Go sources.
//
// Design. Three layers, each ignorant of the one above:
//   1. The engine (TypeLayout, Language, EnumLayout, OptimalOrder) knows only sizes, alignments, extra
//      inhabitants and spare bits. Language.place is the whole of struct layout; the Swift/Go difference is
//      one rule (Go rounds size up to alignment and pads a zero-size tail field; Swift keeps size = end of
//      last field and lets the next field start inside a nested struct's tail padding).
//   2. Front ends turn source into StructDecls whose fields are Resolved: a TypeLayout, or .unknown(why).
//      SwiftFrontEnd parses with swift-syntax, collects every declaration of every file first, then resolves
//      (SwiftResolver, SwiftProperties, SwiftKnownTypes). GoFrontEnd has its own small lexer and parser for
//      type declarations (GoTokenizer, GoParser, GoResolver). Nothing is guessed: a type from another module,
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

    /// Files named directly must be .swift or .go; directories are searched for .swift and .go files,
    /// skipping hidden directories (`.build`, `.git`), `vendor` and `node_modules`, and Go files that Go would
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
            guard let walker = fm.enumerator(atPath: path) else {
                throw InputError(description: "\(path): cannot read directory")
            }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") || name == "vendor" || name == "node_modules" {
                    if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { walker.skipDescendants() }
                    continue
                }
                if name.hasSuffix(".swift") || (name.hasSuffix(".go") && GoBuildConstraints.fileNameMatches(name)) {
                    found.append(path.hasSuffix("/") ? path + relative : path + "/" + relative)
                }
            }
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
            var decls = try SwiftFrontEnd.structs(files: swiftFiles, model: model)
            for dir in goPackages.keys.sorted() { decls += try GoFrontEnd.structs(files: goPackages[dir]!) }
            return decls
        }
    }
}
