import ArgumentParser
import Foundation
import GoLayout

/// `gort layout PATH...`: struct layout, padding and the best field order for Swift and Go sources
/// (like Go's fieldalignment or C's pahole). See docs/layout.md.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Show struct sizes, padding and the field order with the smallest stride (Swift and Go).",
        discussion: "Exit status: 0 on success; 1 with --check when some struct could shrink, or when --fix did not write a file whose rewrite failed its check; non-zero on bad input (one-line error). A file that does not parse is skipped with a one-line warning and does not change the status."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "Swift or Go files, or directories to search for them.")
    var paths: [String]

    @Option(help: "Output format: text (pahole-like tables) or json (see docs/layout.md).")
    var format: Format = .text

    @Flag(help: "Print a warning per struct whose stride (Go: or pointer bytes) could shrink, and exit 1 if there is any.")
    var check = false

    @Flag(help: "Rewrite the field order in place (refuses @frozen; Codable and memberwise inits need --force).")
    var fix = false

    @Flag(help: "With --fix, also reorder Codable structs and structs with a memberwise initializer.")
    var force = false

    // Unconditional: `--min-waste -3` reaches validate() (and its message) instead of reading as a flag.
    @Option(parsing: .unconditional, help: "Only report structs that waste at least this many bytes per value (0 or more).")
    var minWaste: Int = 0

    @Option(help: "Target data model: \(DataModel.all.map(\.name).joined(separator: ", ")).")
    var target: String = DataModel.host.name

    func validate() throws {
        if minWaste < 0 { throw ValidationError("--min-waste must be 0 or more") }
        if fix && check { throw ValidationError("--fix and --check cannot be combined") }
        if force && !fix { throw ValidationError("--force only applies to --fix") }
        if fix && format == .json { throw ValidationError("--fix does not support --format json") }
        if DataModel.all.first(where: { $0.name == target }) == nil {
            throw ValidationError("unknown --target '\(target)'")
        }
    }

    func run() throws {
        let analyzer = LayoutAnalyzer(model: DataModel.all.first { $0.name == target }!)
        let decls: [StructDecl]
        do {
            // A file that does not parse is one warning, not the end of the run (docs/layout.md).
            let result = try analyzer.structsSkippingUnparsable(paths)
            decls = result.structs
            for e in result.skipped {
                FileHandle.standardError.write(Data("gort layout: warning: \(e.file):\(e.line):\(e.column): \(e.message); file skipped\n".utf8))
            }
        } catch { throw Self.oneLine(error) }
        if fix { return try runFix(decls, analyzer) }
        let reports = decls.map(StructReport.init)
        let shown = reports.filter { minWaste == 0 || ($0.wastedBytes ?? 0) >= minWaste }
        let shrinkable = shown.filter(\.canShrink)
        // `@frozen` structs are never reordered (their layout is ABI): reported, but not `--check` findings.
        let frozen = Set(decls.filter(\.traits.isFrozen).map { "\($0.file):\($0.line):\($0.column)" })
        let findings = shown.filter { $0.isFinding && !frozen.contains("\($0.file):\($0.line):\($0.column)") }
        if check {
            // JSON lists the findings only, in the same schema as a full report.
            switch format {
            case .json: try printJSON(findings)
            case .text: for r in findings { print(TextReport.diagnostic(r)) }
            }
            if !findings.isEmpty { throw ExitCode(1) }
            return
        }
        switch format {
        case .json:
            try printJSON(shown)
        case .text:
            for r in shown { print(TextReport.table(r)) }
            let saved = shrinkable.reduce(0) { $0 + $1.wastedBytes! }
            let unknown = shown.filter { $0.size == nil }.count
            let scanLess = findings.count - shrinkable.count
            print("\(shown.count) structs, \(shrinkable.count) could shrink (\(saved) bytes per value in total), "
                  + (scanLess > 0 ? "\(scanLess) could have fewer pointer bytes, " : "")
                  + "\(unknown) with unknown layout")
        }
    }

    /// Gort prints "gort layout: error: <message>", so a source position comes without a second "error:".
    static func oneLine(_ error: Error) -> GortError {
        if let e = error as? SourceError { return GortError("\(e.file):\(e.line):\(e.column): \(e.message)") }
        return GortError("\(error)")
    }

    private func printJSON(_ structs: [StructReport]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let doc = LayoutDocument(version: 1, target: target, structs: structs)
        print(String(decoding: try encoder.encode(doc), as: UTF8.self))
    }

    private func runFix(_ decls: [StructDecl], _ analyzer: LayoutAnalyzer) throws {
        var outcome: FieldReorder.Outcome
        do { outcome = try FieldReorder.plan(decls.filter { minWaste == 0 || (StructReport($0).wastedBytes ?? 0) >= minWaste },
                                             force: force) }
        catch { throw Self.oneLine(error) }
        // Safety net: parse the rewrite again and check every claimed layout before writing anything.
        let verified = FieldReorder.verify(&outcome) { rewritten in
            let result = try analyzer.structsSkippingUnparsable(paths, overrides: rewritten)
            // Files skipped before are skipped again; a rewritten one that no longer parses fails the check.
            if let broken = result.skipped.first(where: { rewritten[$0.file] != nil }) { throw broken }
            return result.structs
        }
        for m in outcome.messages { FileHandle.standardError.write(Data((m + "\n").utf8)) }
        for (file, text) in outcome.rewritten.sorted(by: { $0.key < $1.key }) {
            do { try text.write(toFile: file, atomically: true, encoding: .utf8) }
            catch { throw GortError("\(file): cannot write: \(error.localizedDescription)") }
        }
        print("reordered \(outcome.changedStructs) struct(s) in \(outcome.rewritten.count) file(s)")
        if !verified { throw ExitCode(1) }
    }
}

/// The top level of `--format json`.
struct LayoutDocument: Encodable {
    var version: Int
    var target: String
    var structs: [StructReport]
}
