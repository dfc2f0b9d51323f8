// Span classes. Go: spanClass (mheap.go).

/// Go: spanClass. `sizeclass << 1 | noscan`: each size class has a span class for objects with pointers
/// (scanned by the GC) and one for pointer-free objects (never scanned). 136 span classes.
public struct SpanClass: Equatable, Hashable {
    public var raw: UInt8
    @inline(__always) public init(_ raw: UInt8) { self.raw = raw }
    @inline(__always) public init(sizeclass: Int, noscan: Bool) {
        raw = UInt8(truncatingIfNeeded: sizeclass << 1 | (noscan ? 1 : 0))
    }
    @inline(__always) public var sizeclass: Int { Int(raw >> 1) }
    @inline(__always) public var noscan: Bool { raw & 1 != 0 }
    @inline(__always) public var index: Int { Int(raw) }
}

// Table access. The tables in SizeClasses.swift are static tuples; these read them through a pointer.
@inline(__always) func sizeClassSize(_ c: Int) -> Int {
    Int(withUnsafeMutablePointer(to: &classToSize) { UnsafeRawPointer($0).load(fromByteOffset: c << 1, as: UInt16.self) })
}
@inline(__always) func sizeClassNPages(_ c: Int) -> Int {
    Int(withUnsafeMutablePointer(to: &classToNPages) { UnsafeRawPointer($0).load(fromByteOffset: c, as: UInt8.self) })
}
@inline(__always) func sizeClassNElems(_ c: Int) -> Int {
    Int(withUnsafeMutablePointer(to: &classToNElems) { UnsafeRawPointer($0).load(fromByteOffset: c << 1, as: UInt16.self) })
}
@inline(__always) func sizeClassDivMagic(_ c: Int) -> UInt32 {
    withUnsafeMutablePointer(to: &classToDivMagic) { UnsafeRawPointer($0).load(fromByteOffset: c << 2, as: UInt32.self) }
}

/// Go: size_to_class8 / size_to_class128. Size class for a small object of `size` bytes (1...32768).
/// `cAligned`: 16-byte alignment for sizes of 16 and up, as C's malloc promises.
@inline(__always) func sizeToClass(_ size: UInt, cAligned: Bool) -> Int {
    if size <= UInt(smallSizeMax - 8) {
        let i = Int((size &+ 7) &>> 3)
        if cAligned {
            return Int(withUnsafeMutablePointer(to: &mallocSizeToClass8) { UnsafeRawPointer($0).load(fromByteOffset: i, as: UInt8.self) })
        }
        return Int(withUnsafeMutablePointer(to: &sizeToClass8) { UnsafeRawPointer($0).load(fromByteOffset: i, as: UInt8.self) })
    }
    let i = Int((size &- UInt(smallSizeMax) &+ 127) &>> 7)
    return Int(withUnsafeMutablePointer(to: &sizeToClass128) { UnsafeRawPointer($0).load(fromByteOffset: i, as: UInt8.self) })
}

/// Public view of the size-class table (for tools, tests and the GC).
public enum SizeClasses {
    public static var count: Int { numSizeClasses }
    public static func size(_ c: Int) -> Int { sizeClassSize(c) }
    public static func npages(_ c: Int) -> Int { sizeClassNPages(c) }
    public static func nelems(_ c: Int) -> Int { sizeClassNElems(c) }
    public static func divMagic(_ c: Int) -> UInt32 { sizeClassDivMagic(c) }
    /// The size class for a request (0 for large objects).
    public static func classFor(size: Int, cAligned: Bool = false) -> Int {
        size > maxSmallSize ? 0 : sizeToClass(UInt(max(size, 1)), cAligned: cAligned)
    }
}
