/// Go structs whose field order is a wire format, which `--fix` refuses without `--force` (as Swift's
/// synthesized `Codable`): a struct with a struct tag (`json:"id"`, `xml:`, `protobuf:`, any tag: encoders read
/// fields in order), and a struct passed to encoding/binary, whose `Read`/`Write`/`Size` lay fields out in
/// declaration order.
///
/// Which types reach encoding/binary is found per file, conservatively (refusing too many is safe): every
/// identifier in the arguments of `binary.Read(...)`, `Write(...)` or `Size(...)` (the file's name for
/// "encoding/binary"), and, for each one that is a variable, the types in its declarations in the file
/// (`var h Header`, `h *Header` in a parameter list, `h := Header{...}`, `h := &Header{...}`, `new(Header)`).
enum GoWireFormat {
    static func binaryTypes(tokens: [GoToken], imports: [String: String]) -> Set<String> {
        guard let binary = imports.first(where: { $0.value == "encoding/binary" })?.key else { return [] }
        var argumentNames: Set<String> = []
        var i = 0
        while i + 3 < tokens.count {
            defer { i += 1 }
            guard tokens[i].kind == .ident, tokens[i].string == binary, tokens[i + 1].is("."),
                  ["Read", "Write", "Size"].contains(tokens[i + 2].string), tokens[i + 3].is("(") else { continue }
            var depth = 0
            var j = i + 3
            repeat {
                if tokens[j].is("(") || tokens[j].is("[") || tokens[j].is("{") { depth += 1 }
                if tokens[j].is(")") || tokens[j].is("]") || tokens[j].is("}") { depth -= 1 }
                if tokens[j].kind == .ident { argumentNames.insert(tokens[j].string) }
                j += 1
            } while depth > 0 && tokens[j].kind != .eof
        }
        guard !argumentNames.isEmpty else { return [] }
        var types = argumentNames
        for k in tokens.indices where tokens[k].kind == .ident && argumentNames.contains(tokens[k].string) {
            // `name T`, `name *T`, `name []T`: a var, parameter or field declaration.
            var t = k + 1
            while t < tokens.count && (tokens[t].is("*") || tokens[t].is("&") || tokens[t].is("[") || tokens[t].is("]")
                                       || tokens[t].is(":") || tokens[t].is("=") || tokens[t].kind == .number) { t += 1 }
            if t < tokens.count, tokens[t].kind == .ident {
                if tokens[t].string == "new" || tokens[t].string == "make", t + 2 < tokens.count, tokens[t + 1].is("(") {
                    var u = t + 2
                    while u < tokens.count && (tokens[u].is("*") || tokens[u].is("[") || tokens[u].is("]")) { u += 1 }
                    if u < tokens.count, tokens[u].kind == .ident { types.insert(tokens[u].string) }
                } else {
                    types.insert(tokens[t].string)
                }
            }
        }
        return types
    }
}
