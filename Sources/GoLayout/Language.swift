/// The source language of a struct: its rules for placing fields and sizing the whole.
public enum Language: String, Codable, Sendable {
    /// Fields in declaration order, each at the next multiple of its alignment. A field occupies its *size*, so
    /// the next field may start inside a nested struct's tail padding. size = end of the last field (no tail
    /// padding); stride = size rounded up to alignment, at least 1. Empty fields sit at offset 0.
    case swift
    /// As Swift, but every size is a multiple of its alignment (size includes tail padding), and a zero-size
    /// final field in a non-empty struct gets one byte of padding so its address stays inside the object.
    case go
}

/// Where the fields of one aggregate land.
public struct Placement: Hashable, Sendable {
    public var offsets: [Int]
    /// Swift: end of the last field. Go: rounded to alignment, after the zero-size-tail byte.
    public var size: Int
    public var alignment: Int
    /// The furthest end of any field (not the last field's: Swift puts empty fields at 0).
    public var fieldsEnd: Int
    public var language: Language
    /// Swift: size rounded up to alignment, at least 1. Go: the size, already a multiple of the alignment, and
    /// 0 for a zero-size struct (`[4]struct{}` occupies no bytes).
    public var stride: Int { language == .go ? size : max(1, roundUp(size, alignment)) }
}

extension Language {
    /// Places `fields` in the given order.
    public func place(_ fields: [TypeLayout]) -> Placement {
        var offsets: [Int] = []
        offsets.reserveCapacity(fields.count)
        var end = 0
        var alignment = 1
        for f in fields {
            // Swift gives an empty field offset 0 (IRGen lays out only fields with storage), and it takes no room.
            if self == .swift && f.size == 0 {
                offsets.append(0)
                alignment = max(alignment, f.alignment)
                continue
            }
            let offset = roundUp(end, f.alignment)
            offsets.append(offset)
            end = offset + f.size
            alignment = max(alignment, f.alignment)
        }
        if self == .go {
            if let last = fields.last, last.size == 0, end > 0 { end += 1 }
            end = roundUp(end, alignment)
        }
        let fieldsEnd = zip(fields, offsets).reduce(0) { max($0, $1.1 + $1.0.size) }
        return Placement(offsets: offsets, size: end, alignment: alignment, fieldsEnd: fieldsEnd, language: self)
    }

    /// The layout of a struct (or tuple) with these fields, as a type that other types can hold.
    /// Swift: its extra inhabitants are those of the field with the most; its spare bits are its fields'
    /// spare bits plus every padding byte between fields. Go: pointer bytes end at the last pointerful field.
    public func aggregate(_ fields: [TypeLayout]) -> TypeLayout {
        let p = place(fields)
        if self == .go {
            let pointerBytes = zip(fields, p.offsets).reduce(0) { $1.0.pointerBytes > 0 ? $1.1 + $1.0.pointerBytes : $0 }
            return TypeLayout(size: p.size, alignment: p.alignment, pointerBytes: pointerBytes)
        }
        var spare: [UInt8]? = [UInt8](repeating: 0xFF, count: p.size)
        var xi = 0
        var xiExact = true
        var spareBitsUsable = true
        for (f, offset) in zip(fields, p.offsets) {
            spareBitsUsable = spareBitsUsable && f.spareBitsUsable
            if f.spareBits != nil, spare != nil {
                for i in 0..<f.size { spare![offset + i] = f.spareByte(i)! }
            } else {
                spare = nil
            }
            if f.extraInhabitants > xi || (f.extraInhabitants == xi && !f.extraInhabitantsExact) {
                xi = f.extraInhabitants
                xiExact = f.extraInhabitantsExact
            }
        }
        var t = TypeLayout(size: p.size, alignment: p.alignment, extraInhabitants: xi, extraInhabitantsExact: xiExact,
                           spareBits: [UInt8](repeating: 0, count: p.size))
        // An aggregate holding an opaque existential offers no spare bits at all, not even its padding
        // (measured: `enum { case a((Int8, Any)), b(Int8) }` is 41 bytes, `(Int8, Int64)` in its place gives 16).
        t.spareBits = spareBitsUsable ? spare : spare.map { [UInt8](repeating: 0, count: $0.count) }
        t.spareBitsUsable = spareBitsUsable
        return t
    }
}
