/// Swift enum layout (IRGen's GenEnum strategies), measured against swiftc on x86_64 Linux.
///
/// - No payload cases: a tag of 0 (one case), 1, 2 or 4 bytes. Extra inhabitants are the unused tag values;
///   the tag bits no case needs are spare.
/// - One payload case: empty cases first take the payload's extra inhabitants. If too few, an extra tag byte
///   (or more) follows the payload's *size*; such an enum offers no extra inhabitants (`Int??` is 10 bytes)
///   and exposes only the extra tag's unused bits as spare (none when the payload holds an opaque existential).
/// - Several payload cases: the tag goes in the spare bits all payloads share (a shorter payload's missing
///   bytes count as spare), empty cases are numbered in the non-spare bits; if the tags do not fit, the tag is
///   extra bytes after the largest payload and empty cases are numbered in all payload bits (32 at most), so
///   then no payload bit stays spare; the extra tag's unused bits are (none after an opaque existential).
///   Extra inhabitants are the unused tag values.
/// - Generic enums: IRGen lays a multi-payload enum out in its generic context, where a payload whose layout
///   depends on a type parameter (`T`, `T?`, `Box<T>`, but not `[T]`, a class or a function) is not fixed-size.
///   Then it allows no fixed-layout optimizations, so what the runtime would compute for any substitution is
///   used for all: no payload spare bits (the tag always takes extra bytes after the largest payload), and a
///   dependent payload of size 0 is still a payload case (measured: `Result<Int8, any Error>` is 9 bytes,
///   `Result<Bool, Never>` 2, `enum GE<T> { case a(T), b(C) }` as `GE<C>` 9).
enum EnumLayout {
    static func layout(payloads: [TypeLayout], emptyCases: Int, fixedLayout: Bool = true) -> Resolved {
        switch payloads.count {
        case 0: return .known(noPayload(cases: emptyCases))
        case 1: return singlePayload(payloads[0], emptyCases: emptyCases)
        default: return multiPayload(payloads, emptyCases: emptyCases, fixedLayout: fixedLayout)
        }
    }

    static func noPayload(cases n: Int) -> TypeLayout {
        if n <= 1 { return TypeLayout(size: 0, alignment: 1) }
        let bytes = tagBytes(forTags: n)
        return TypeLayout(size: bytes, alignment: bytes, extraInhabitants: capacity(bytes: bytes) - n,
                          spareBits: tagSpare(bytes: bytes, tags: n))
    }

    static func singlePayload(_ p: TypeLayout, emptyCases: Int) -> Resolved {
        if emptyCases == 0 { return .known(p) }
        if emptyCases <= p.extraInhabitants {
            var t = TypeLayout(size: p.size, alignment: p.alignment, extraInhabitants: p.extraInhabitants - emptyCases,
                               extraInhabitantsExact: p.extraInhabitantsExact,
                               spareBits: [UInt8](repeating: 0, count: p.size))
            t.spareBitsUsable = p.spareBitsUsable
            return .known(t)
        }
        if !p.extraInhabitantsExact {
            return .unknown("enum with \(emptyCases) empty cases over a payload whose extra inhabitant count is not known exactly")
        }
        let rest = emptyCases - p.extraInhabitants
        let tags = 1 + casesPerTag(rest, valueBits: p.size * 8)
        let bytes = tagBytes(forTags: tags)
        var t = TypeLayout(size: p.size + bytes, alignment: p.alignment, extraInhabitants: 0,
                           spareBits: [UInt8](repeating: 0, count: p.size)
                               + (p.spareBitsUsable ? tagSpare(bytes: bytes, tags: tags) : [UInt8](repeating: 0, count: bytes)))
        t.spareBitsUsable = p.spareBitsUsable
        return .known(t)
    }

    /// `fixedLayout` is false for a generic enum with a payload that depends on a type parameter (see above).
    static func multiPayload(_ payloads: [TypeLayout], emptyCases: Int, fixedLayout: Bool = true) -> Resolved {
        let size = payloads.map(\.size).max()!
        let alignment = payloads.map(\.alignment).max()!
        var common = [UInt8](repeating: fixedLayout ? 0xFF : 0, count: size)
        for p in payloads where fixedLayout {
            guard let s = p.spareBits else { return .unknown("multi-payload enum over a payload whose spare bits are not known") }
            for i in 0..<p.size { common[i] &= i < s.count ? s[i] : 0 }
            if !p.spareBitsUsable { for i in p.size..<size { common[i] = 0 } }
        }
        let spareBitsUsable = payloads.allSatisfy(\.spareBitsUsable)
        let spareCount = common.reduce(0) { $0 + $1.nonzeroBitCount }
        // Spare-bit tags: empty cases are numbered in the bits no payload leaves spare.
        let spareTags = payloads.count + casesPerTag(emptyCases, valueBits: size * 8 - spareCount)
        if bitsNeeded(spareTags) <= spareCount {
            var spare = common
            clearMostSignificant(bitsNeeded(spareTags), in: &spare)
            let xi = spareCount >= 31 ? TypeLayout.maxExtraInhabitants : (1 << spareCount) - spareTags
            var t = TypeLayout(size: size, alignment: alignment, extraInhabitants: xi, spareBits: spare)
            t.spareBitsUsable = spareBitsUsable
            return .known(t)
        }
        let tags = payloads.count + casesPerTag(emptyCases, valueBits: size * 8)
        let bytes = tagBytes(forTags: tags)
        let xi = capacity(bytes: bytes) - tags
        var t = TypeLayout(size: size + bytes, alignment: alignment, extraInhabitants: max(0, xi),
                           spareBits: (emptyCases > 0 ? [UInt8](repeating: 0, count: size) : common)
                               + (spareBitsUsable ? tagSpare(bytes: bytes, tags: tags) : [UInt8](repeating: 0, count: bytes)))
        t.spareBitsUsable = spareBitsUsable
        return .known(t)
    }

    /// Tag values needed to number `cases` empty cases when each tag value covers `valueBits` payload bits
    /// (Swift numbers at most 32 bits' worth per tag).
    static func casesPerTag(_ cases: Int, valueBits: Int) -> Int {
        if cases == 0 { return 0 }
        if valueBits >= 32 { return 1 }
        let perTag = 1 << valueBits
        return (cases + perTag - 1) / perTag
    }

    static func bitsNeeded(_ tags: Int) -> Int { tags <= 1 ? 0 : Int.bitWidth - (tags - 1).leadingZeroBitCount }
    static func tagBytes(forTags n: Int) -> Int { n <= 0x100 ? 1 : n <= 0x1_0000 ? 2 : 4 }
    static func capacity(bytes: Int) -> Int { bytes >= 4 ? TypeLayout.maxExtraInhabitants : 1 << (8 * bytes) }

    /// A tag field's spare bits: every bit above those needed for `tags` values.
    static func tagSpare(bytes: Int, tags: Int) -> [UInt8] {
        let used = bitsNeeded(tags)
        return (0..<bytes).map { i in
            let lo = i * 8
            if used <= lo { return 0xFF }
            if used >= lo + 8 { return 0 }
            return UInt8(truncatingIfNeeded: 0xFF << (used - lo))
        }
    }

    static func clearMostSignificant(_ count: Int, in mask: inout [UInt8]) {
        var left = count
        for i in mask.indices.reversed() where left > 0 {
            for bit in (0..<8).reversed() where left > 0 && mask[i] & (1 << bit) != 0 {
                mask[i] &= ~(1 << bit)
                left -= 1
            }
        }
    }
}
