// Object layouts: an object's size and which of its words hold references. Go: the type's ptrdata and GC
// program / pointer mask (type.go, mbitmap.go).
//
// A layout is resolved once (key paths -> byte offsets, size -> size class) and then is a small value the
// allocation fast path reads: spanclass, slot size, and a pointer mask. Masks up to 64 words live inline;
// longer ones in immortal memory. Layouts are values (no ARC), built once, typically as `static let`.
@_spi(GoGC) import GoAlloc

/// Go: a type's pointer bitmap plus its size class. Immutable.
public struct GCLayout: @unchecked Sendable {
    /// Requested size in bytes (a multiple of 8, at least 8). Small objects get a slot of at least 16 bytes.
    public let size: Int
    /// Span class index (sizeclass << 1 | noscan); sizeclass 0 means a large object.
    let spc: Int
    /// Slot size in words (small objects), or 0 for large objects.
    let slotWords: Int
    /// Pointer mask of the first 64 words (bit i = word i is a reference).
    let mask0: UInt64
    /// Pointer mask for objects larger than 64 words (nil otherwise). Immortal.
    let maskWords: UnsafeMutablePointer<UInt64>?
    /// Number of reference words.
    public let pointerCount: Int

    /// A layout of `size` bytes whose reference words are at byte offsets `pointerOffsets` (multiples of 8).
    /// Build each layout once and keep it: one of more than 64 words with references has a mask that is
    /// never freed.
    public init(size: Int, pointerOffsets: [Int]) {
        if size < 0 { gcFatal("GoGC: fatal error: GCLayout with a negative size") }
        let sz = max(8, (size + 7) & ~7)
        self.size = sz
        let words = sz / 8
        var m0: UInt64 = 0
        var mw: UnsafeMutablePointer<UInt64>? = nil
        // Immortal: layouts are values built once (a `static let`); pointer-free ones need no mask at all, so
        // `newBytes` of any size allocates none.
        if words > 64 && !pointerOffsets.isEmpty {
            let n = (words + 63) / 64
            mw = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
            mw!.initialize(repeating: 0, count: n)
        }
        var seen = Set<Int>()
        for off in pointerOffsets {
            if off < 0 || off + 8 > sz || off % 8 != 0 {
                gcFatal("GoGC: fatal error: GCLayout reference offset is not a word inside the object")
            }
            if !seen.insert(off).inserted { continue }
            let w = off / 8
            if w < 64 { m0 |= 1 << UInt64(w) }
            if let mw = mw { mw[w >> 6] |= 1 << UInt64(w & 63) }
        }
        mask0 = m0
        maskWords = mw
        pointerCount = seen.count
        let noscan = seen.isEmpty
        let sc = SizeClasses.classFor(size: max(sz, GCLayout.minObjectBytes))
        spc = sc << 1 | (noscan ? 1 : 0)
        slotWords = sc == 0 ? 0 : SizeClasses.size(sc) / 8
    }

    /// The layout of Swift type `T`, whose reference fields are given by key paths (resolved here, once).
    /// Every field that holds a `Ref` or `Ref?` must be listed; the others are scalars the collector ignores.
    public init<T>(of type: T.Type, references: [PartialKeyPath<T>]) {
        let offs = references.map { kp -> Int in
            guard let o = MemoryLayout<T>.offset(of: kp) else {
                fatalError("GoGC: GCLayout: key path \(kp) is not a stored property with an offset")
            }
            return o
        }
        self.init(size: MemoryLayout<T>.size, pointerOffsets: offs)
    }

    /// An object whose every word is a reference (`words` of them).
    public static func references(_ words: Int) -> GCLayout {
        GCLayout(size: words * 8, pointerOffsets: (0..<words).map { $0 * 8 })
    }

    /// A pointer-free object of `size` bytes (noscan: never scanned).
    public static func bytes(_ size: Int) -> GCLayout { GCLayout(size: size, pointerOffsets: []) }

    /// The smallest slot GoGC allocates: objects of 8 bytes take 16 (Boehm's granule on 64-bit, and Go's
    /// tiny-allocator block), so every object has a 16-byte granule, and a mark bit, of its own (GCArena).
    @inline(__always) static var minObjectBytes: Int { 16 }

    public var isNoscan: Bool { spc & 1 != 0 }
    public var isLarge: Bool { spc >> 1 == 0 }

    /// Whether word `i` is a reference.
    @inline(__always) func isPointer(_ i: Int) -> Bool {
        if let mw = maskWords { return mw[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        return i < 64 && mask0 & (1 << UInt64(i)) != 0
    }
}

/// A reference to a collected object: 8 bytes, no ARC, trivially copyable. Go: a pointer into the heap.
///
/// A `Ref` is valid inside the mutation scope that produced it, until that scope's next `safepoint()`. To
/// keep an object longer, store it in another object, in a `Root`, or on the mutator's shadow stack.
/// `Optional<Ref<T>>` is also 8 bytes (nil is the null word).
public struct Ref<T>: Hashable, @unchecked Sendable {
    public let raw: UnsafeMutableRawPointer
    @inline(__always) public init(raw: UnsafeMutableRawPointer) { self.raw = raw }
    @inline(__always) public init?(word: UInt) {
        guard let p = UnsafeMutableRawPointer(bitPattern: word) else { return nil }
        raw = p
    }
    @inline(__always) public var word: UInt { UInt(bitPattern: raw) }
    /// The same object viewed as another type (layouts are the caller's business).
    @inline(__always) public func cast<U>(to: U.Type) -> Ref<U> { Ref<U>(raw: raw) }

    /// Scalar field access (no barrier: scalars are invisible to the collector). Use `Mutation.load`/`store`
    /// for reference fields.
    @inline(__always) public subscript<V>(scalar field: ScalarField<T, V>) -> V {
        get { raw.load(fromByteOffset: field.offset, as: V.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: field.offset, as: V.self) }
    }
    /// The whole object as a pointer (for scalar-only access; reference fields still need the barrier).
    @inline(__always) public var unsafePointer: UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }
}

/// A reference field of `Object` holding a `Ref<Target>?`, resolved once from a key path to a byte offset.
public struct RefField<Object, Target>: @unchecked Sendable {
    public let offset: Int
    public init(_ kp: KeyPath<Object, Ref<Target>?>) {
        guard let o = MemoryLayout<Object>.offset(of: kp) else { fatalError("GoGC: RefField: the key path is not a stored property") }
        offset = o
    }
    public init(offset: Int) {
        if offset % 8 != 0 { gcFatal("GoGC: fatal error: RefField offset is not word-aligned") }
        self.offset = offset
    }
}

/// A scalar field of `Object` of type `Value`, resolved once from a key path.
public struct ScalarField<Object, Value>: @unchecked Sendable {
    public let offset: Int
    public init(_ kp: KeyPath<Object, Value>) {
        guard let o = MemoryLayout<Object>.offset(of: kp) else { fatalError("GoGC: ScalarField: the key path is not a stored property") }
        offset = o
    }
    public init(offset: Int) { self.offset = offset }
}
