/// The layout facts of one type on a 64-bit target: what `MemoryLayout<T>` answers, plus what an enclosing
/// enum needs (extra inhabitants and spare bits) and what Go's GC needs (pointer bytes).
public struct TypeLayout: Hashable, Sendable {
    /// Bytes the value occupies. In Swift this excludes tail padding; in Go it is already a multiple of `alignment`.
    public var size: Int
    /// Power of two, at least 1.
    public var alignment: Int
    /// Invalid bit patterns an enclosing single-payload enum may use for its empty cases (Swift only).
    /// Swift caps the count at `Int32.max`.
    public var extraInhabitants: Int
    /// False when `extraInhabitants` is only a lower bound (a library type whose exact count we did not measure).
    public var extraInhabitantsExact: Bool
    /// Bits, one mask byte per value byte (little-endian), that no valid value uses; a multi-payload enum may
    /// store its tag there. `nil` means unknown, which makes any multi-payload enum holding this type unknown.
    /// Bytes past the array's end are not spare, so a type without spare bits needs no storage: a Go
    /// `[1 << 40]byte` costs O(1), not a terabyte.
    public var spareBits: [UInt8]?
    /// Go: bytes from the start of the value to the end of its last pointer word (the GC's "ptrdata").
    public var pointerBytes: Int
    /// Whether an enclosing multi-payload enum may use this payload's spare bits and the bytes past its size (up
    /// to the largest payload). False for opaque existentials and weak references and anything holding one: such
    /// aggregates offer no spare bits at all, padding included (measured: `enum { case a(Any), b(UInt64, UInt64,
    /// UInt64, UInt64, K) }` is 41 bytes, not 40).
    public var spareBitsUsable = true

    public init(size: Int, alignment: Int, extraInhabitants: Int = 0, extraInhabitantsExact: Bool = true,
                spareBits: [UInt8]? = nil, pointerBytes: Int = 0) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.size = size
        self.alignment = alignment
        self.extraInhabitants = min(extraInhabitants, TypeLayout.maxExtraInhabitants)
        self.extraInhabitantsExact = extraInhabitantsExact
        self.spareBits = spareBits ?? []
        self.pointerBytes = pointerBytes
    }

    /// Swift never reports more extra inhabitants than this (ValueWitness extra inhabitant count is 31 bits).
    public static let maxExtraInhabitants = Int(Int32.max)

    /// The distance between elements in an array: size rounded up to alignment, never 0.
    public var stride: Int { max(1, roundUp(size, alignment)) }

    /// Same layout with spare bits marked unknown.
    func withUnknownSpareBits() -> TypeLayout { var t = self; t.spareBits = nil; return t }

    /// The spare-bit mask of byte `i` (0 past the stored mask); nil when the spare bits are unknown.
    func spareByte(_ i: Int) -> UInt8? {
        guard let s = spareBits else { return nil }
        return i < s.count ? s[i] : 0
    }

    /// A plain value with no extra inhabitants and no spare bits (integers, floating point).
    static func plain(_ size: Int, _ alignment: Int) -> TypeLayout {
        TypeLayout(size: size, alignment: alignment, spareBits: [])
    }
}

@inline(__always) func roundUp(_ x: Int, _ alignment: Int) -> Int { (x + alignment - 1) & ~(alignment - 1) }

/// What a front end resolved a field's type to: a layout, or the reason it cannot know one.
public enum Resolved: Hashable, Sendable {
    case known(TypeLayout)
    case unknown(String)

    public var layout: TypeLayout? { if case .known(let t) = self { return t } else { return nil } }
}
