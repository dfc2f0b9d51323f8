import SwiftSyntax

/// Whether a conformance means a synthesized `Codable`, whose encoded key order follows the fields (`--fix`
/// refuses such structs without `--force`): `Codable`, `Encodable`, `Decodable`, or, declared in the analyzed
/// files, a protocol refining one of them (`protocol Model: Codable`) or a typealias composing one
/// (`typealias Record = Codable & Hashable`), at any depth.
extension SwiftDeclarations {
    static let codingProtocols: Set<String> = ["Codable", "Encodable", "Decodable",
                                               "Swift.Codable", "Swift.Encodable", "Swift.Decodable"]

    func impliesCodable(_ conformance: String, depth: Int = 0) -> Bool {
        if Self.codingProtocols.contains(conformance) { return true }
        guard depth < 32, let decl = types[conformance] else { return false }
        switch decl.kind {
        case .protocolType:
            return decl.inherited.contains { t in names(in: t).contains { impliesCodable($0, depth: depth + 1) } }
        case .typeAlias:
            return decl.aliased.map { names(in: $0).contains { impliesCodable($0, depth: depth + 1) } } ?? false
        default:
            return false
        }
    }

    /// The protocol names of a composition `A & B` (or of one name).
    private func names(in type: TypeSyntax) -> [String] {
        if let c = type.as(CompositionTypeSyntax.self) { return c.elements.flatMap { names(in: $0.type) } }
        if let a = type.as(SomeOrAnyTypeSyntax.self) { return names(in: a.constraint) }
        return [type.trimmedDescription]
    }
}
