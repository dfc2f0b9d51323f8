/// `--fix`'s safety net: before anything is written, the rewritten sources are parsed again and every
/// reordered struct must come back with its fields in the claimed order and the claimed layout. A file that
/// fails is not written. When a struct holds another reordered struct, that field's layout changes too; then
/// the check only demands that the stride did not grow.
extension FieldReorder {
    /// Drops from `outcome.rewritten` every file whose rewrite does not verify, with an error message each.
    /// `reparse` analyzes the same inputs with the rewritten contents in place of the files. Returns false
    /// when a file was dropped.
    public static func verify(_ outcome: inout Outcome, reparse: ([String: String]) throws -> [StructDecl]) -> Bool {
        guard !outcome.rewritten.isEmpty else { return true }
        var bad: [String: String] = [:]
        do {
            let decls = try reparse(outcome.rewritten)
            var byKey: [String: StructDecl] = [:]
            var occurrences: [String: Int] = [:]
            for d in decls {
                let n = occurrences["\(d.file)\u{0}\(d.name)", default: 0]
                occurrences["\(d.file)\u{0}\(d.name)"] = n + 1
                byKey["\(d.file)\u{0}\(d.name)\u{0}\(n)"] = d
            }
            for claim in outcome.claims where bad[claim.file] == nil {
                guard let d = byKey["\(claim.file)\u{0}\(claim.name)\u{0}\(claim.occurrence)"] else {
                    bad[claim.file] = "struct \(claim.name) is missing after the rewrite"; continue
                }
                if let why = mismatch(claim, d) { bad[claim.file] = "struct \(claim.name): \(why)" }
            }
        } catch {
            for file in outcome.rewritten.keys { bad[file] = "the rewritten sources do not parse: \(error)" }
        }
        for (file, why) in bad.sorted(by: { $0.key < $1.key }) {
            outcome.messages.append("\(file): error: not writing the reordered file: \(why)")
            outcome.rewritten[file] = nil
            outcome.changedStructs -= outcome.claims.filter { $0.file == file }.count
        }
        outcome.claims.removeAll { bad[$0.file] != nil }
        return bad.isEmpty
    }

    static func mismatch(_ claim: Claim, _ d: StructDecl) -> String? {
        let got = d.fields.map { "\($0.name): \($0.typeText)" }
        let want = claim.fields.map { "\($0.name): \($0.type)" }
        if got != want { return "fields are [\(got.joined(separator: ", "))], expected [\(want.joined(separator: ", "))]" }
        let layouts = d.fields.compactMap(\.resolved.layout)
        guard layouts.count == d.fields.count else { return "a field's layout became unknown" }
        let placed = d.language.place(layouts)
        let unchanged = zip(layouts, claim.fields).allSatisfy { $0.size == $1.size && $0.alignment == $1.alignment }
        if unchanged && (placed.size != claim.size || placed.stride != claim.stride) {
            return "size \(placed.size), stride \(placed.stride); expected size \(claim.size), stride \(claim.stride)"
        }
        if !unchanged && placed.stride > claim.oldStride {
            return "stride grew from \(claim.oldStride) to \(placed.stride)"
        }
        return nil
    }
}
