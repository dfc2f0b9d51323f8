/// The standard library's and Linux Foundation's types, as swiftc 6.3 lays them out on 64-bit targets.
/// Every entry is checked against `MemoryLayout` by `SwiftKnownTypesTests`. Where only a lower bound of the
/// extra inhabitants was measured, `extraInhabitantsExact` is false; where spare bits were not measured,
/// they are nil (unknown), so enums that would need them are reported unknown instead of guessed.
struct SwiftKnownTypes {
    let model: DataModel

    /// A value with no invalid bit patterns and no spare bits.
    private func plain(_ size: Int, _ alignment: Int) -> Resolved { .known(.plain(size, alignment)) }

    /// A library type measured by size, alignment and a lower bound on its extra inhabitants.
    private func opaque(_ size: Int, _ alignment: Int, xi: Int, spare: Bool?) -> Resolved {
        var t = TypeLayout(size: size, alignment: alignment, extraInhabitants: xi, extraInhabitantsExact: false)
        if spare != false { t.spareBits = nil }  // unknown (the initializer would read nil as "none")
        return .known(t)
    }

    /// A non-null raw pointer: only 0 is invalid.
    private var rawPointer: Resolved { .known(TypeLayout(size: 8, alignment: 8, extraInhabitants: 1)) }

    /// A thick function value (function pointer + context): 4096-style pointer XI, no spare bits.
    var function: TypeLayout {
        TypeLayout(size: 16, alignment: 8, extraInhabitants: model.heapPointerExtraInhabitants)
    }

    /// Resolves a standard library or Foundation type by its (possibly module-qualified) name.
    func lookup(_ name: String, _ args: [Resolved]) -> Resolved? {
        let bare = name.hasPrefix("Swift.") ? String(name.dropFirst(6))
            : name.hasPrefix("Foundation.") ? String(name.dropFirst(11)) : name
        switch (bare, args.count) {
        case ("Int", 0), ("UInt", 0), ("Int64", 0), ("UInt64", 0), ("Double", 0), ("Float64", 0), ("CGFloat", 0),
             ("TimeInterval", 0), ("Date", 0), ("DispatchTime", 0):
            return plain(8, 8)
        case ("Float80", 0):
            return model.isX86 ? plain(16, 16) : .unknown("Float80 does not exist on \(model.name)")
        case ("Float16", 0) where model.isX86 && model.isDarwin:
            return .unknown("Float16 is unavailable on \(model.name)")
        case ("Int32", 0), ("UInt32", 0), ("Float", 0), ("Float32", 0), ("Unicode.Scalar", 0), ("UnicodeScalar", 0),
             ("CInt", 0), ("CUnsignedInt", 0), ("CFloat", 0), ("CWideChar", 0), ("CChar32", 0):
            return plain(4, 4)
        case ("CLong", 0), ("CUnsignedLong", 0), ("CLongLong", 0), ("CUnsignedLongLong", 0), ("CDouble", 0):
            return plain(8, 8)
        case ("Int16", 0), ("UInt16", 0), ("Float16", 0), ("CShort", 0), ("CUnsignedShort", 0), ("CChar16", 0):
            return plain(2, 2)
        case ("CBool", 0): return .known(TypeLayout(size: 1, alignment: 1, extraInhabitants: 254, spareBits: [0xFE]))
        case ("Int8", 0), ("UInt8", 0), ("CChar", 0), ("CSignedChar", 0), ("CUnsignedChar", 0): return plain(1, 1)
        case ("Int128", 0), ("UInt128", 0): return plain(16, 16)
        case ("Bool", 0): return .known(TypeLayout(size: 1, alignment: 1, extraInhabitants: 254, spareBits: [0xFE]))
        case ("Void", 0): return plain(0, 1)
        case ("Never", 0): return plain(0, 1)
        case ("String", 0), ("Character", 0): return opaque(16, 8, xi: 255, spare: false)
        case ("Substring", 0): return opaque(32, 8, xi: 255, spare: false)
        case ("Array", 1), ("ContiguousArray", 1): return .known(model.heapReference)
        case ("Dictionary", 2), ("Set", 1): return opaque(8, 8, xi: 255, spare: false)
        case ("ArraySlice", 1): return opaque(32, 8, xi: 255, spare: nil)
        case ("AnyHashable", 0):
            // An opaque existential inside (its box), so a multi-payload enum gets no spare bits past it.
            guard var t = opaque(40, 8, xi: 255, spare: false).layout else { return nil }
            t.spareBitsUsable = false
            return .known(t)
        case ("Optional", 1):
            guard let w = args[0].layout else { return args[0] }
            return EnumLayout.singlePayload(w, emptyCases: 1)
        case ("Result", 2):
            guard let s = args[0].layout else { return args[0] }
            guard let f = args[1].layout else { return args[1] }
            // Both payloads are type parameters: no fixed-layout optimizations (see EnumLayout).
            return EnumLayout.multiPayload([s, f], emptyCases: 0, fixedLayout: false)
        case ("Range", 1), ("ClosedRange", 1):
            guard let b = args[0].layout else { return args[0] }
            return .known(Language.swift.aggregate([b, b]))
        case ("UnsafePointer", 1), ("UnsafeMutablePointer", 1), ("UnsafeRawPointer", 0),
             ("UnsafeMutableRawPointer", 0), ("OpaquePointer", 0), ("ObjectIdentifier", 0):
            return rawPointer
        case ("UnsafeBufferPointer", 1), ("UnsafeMutableBufferPointer", 1), ("UnsafeRawBufferPointer", 0),
             ("UnsafeMutableRawBufferPointer", 0):
            let start = EnumLayout.singlePayload(rawPointer.layout!, emptyCases: 1).layout!
            return .known(Language.swift.aggregate([start, TypeLayout.plain(8, 8)]))
        case ("Unmanaged", 1): return .known(model.heapReference)
        case ("SIMD2", 1), ("SIMD3", 1), ("SIMD4", 1), ("SIMD8", 1), ("SIMD16", 1), ("SIMD32", 1), ("SIMD64", 1):
            // A vector of the scalar: the lane count rounded up to a power of two (SIMD3 is stored as 4 lanes),
            // aligned to its size up to 16 bytes (measured on x86_64: SIMD3<Float> 16/16, SIMD64<UInt8> 64/16).
            guard let e = args[0].layout else { return args[0] }
            let lanes = Int(bare.dropFirst(4))!
            let size = (lanes == 3 ? 4 : lanes) * e.size
            return plain(size, min(max(size, 1), 16))
        case ("SIMDMask", 1): return args[0]   // the vector of its integer lanes
        case ("KeyPath", 2), ("WritableKeyPath", 2), ("ReferenceWritableKeyPath", 2), ("PartialKeyPath", 1),
             ("AnyKeyPath", 0):
            return .known(model.heapReference)
        case ("UnsafeContinuation", 2), ("CheckedContinuation", 2):
            // A task reference; CheckedContinuation boxes it in a class.
            return bare.hasPrefix("Unsafe") ? rawPointer : .known(model.heapReference)
        case ("Duration", 0), ("NSRange", 0), ("CGPoint", 0), ("CGSize", 0): return plain(16, 8)
        case ("CGRect", 0): return plain(32, 8)
        case ("StaticString", 0):
            return .known(Language.swift.aggregate([.plain(8, 8), .plain(8, 8), .plain(1, 1)]))
        case ("UUID", 0): return plain(16, 1)
        case ("Decimal", 0): return plain(20, 2)
        case ("Data", 0): return opaque(16, 8, xi: 2, spare: nil)
        case ("IndexPath", 0): return opaque(17, 8, xi: 2, spare: nil)
        case ("URL", 0), ("Calendar", 0), ("Locale", 0), ("TimeZone", 0):
            // Measured with Linux's Foundation; Apple's differs between OS releases.
            if model.isDarwin { return .unknown("\(bare) on \(model.name): Apple's Foundation layout is not known") }
            return opaque(16, 8, xi: 255, spare: nil)
        default: return nil
        }
    }

    /// Standard library classes `lookup` knows (as a reference): named in an existential, they are not protocols.
    static let standardClasses: Set<String> = ["KeyPath", "WritableKeyPath", "ReferenceWritableKeyPath",
                                               "PartialKeyPath", "AnyKeyPath"]

    /// Whether `lookup` reads the type arguments of this generic type: the others (pointers, arrays, key
    /// paths, continuations, ...) have one layout whatever their arguments, which are then not resolved.
    static func layoutDependsOnArguments(_ name: String) -> Bool {
        let bare = name.hasPrefix("Swift.") ? String(name.dropFirst(6)) : name
        return ["Optional", "Result", "Range", "ClosedRange", "SIMDMask"].contains(bare)
            || (bare.hasPrefix("SIMD") && Int(bare.dropFirst(4)) != nil)
    }

    /// `InlineArray<count, Element>` (`[count of Element]`): count elements at the element's stride, so its size
    /// is count * stride (InlineArray<2, (Int64, Int8)> is 32 bytes, where the tuple pair is 25); an empty one is
    /// 0 bytes aligned to 1. Extra inhabitants are the element's; spare bits are each element's plus the padding
    /// up to its stride, the last element's included (measured: `enum { case a(InlineArray<2, W>), b(Int8) }`
    /// with W = (Int32, Int8) is 16 bytes, its tag in that padding).
    func inlineArray(count: Int, element: Resolved) -> Resolved {
        guard let e = element.layout else { return element }
        if count == 0 { return plain(0, 1) }
        guard count > 0, count <= Int.max / max(e.stride, 1) else { return .unknown("InlineArray count \(count)") }
        var t = TypeLayout(size: count * e.stride, alignment: e.alignment, extraInhabitants: e.extraInhabitants,
                           extraInhabitantsExact: e.extraInhabitantsExact)
        t.spareBitsUsable = e.spareBitsUsable
        let hasSpare = e.stride > e.size || (0..<e.size).contains { e.spareByte($0) != 0 }
        if e.spareBits == nil || !e.spareBitsUsable {
            t.spareBits = e.spareBits == nil ? nil : []
        } else if hasSpare && t.size <= 1 << 20 {
            var bytes = [UInt8](repeating: 0xFF, count: t.size)
            for i in 0..<count { for b in 0..<e.size { bytes[i * e.stride + b] = e.spareByte(b)! } }
            t.spareBits = bytes
        } else if hasSpare {
            t.spareBits = nil   // a huge array: not worth the mask
        }
        return .known(t)
    }

    /// Protocols of the standard library: marker protocols add no witness table; `Actor` is class-bound.
    enum ProtocolKind { case marker, plain, classBound, error }
    static func protocolKind(_ name: String) -> ProtocolKind? {
        switch name {
        case "Sendable", "Copyable", "Escapable", "BitwiseCopyable", "SendableMetatype": return .marker
        case "Error", "Swift.Error": return .error
        case "Actor", "AnyActor": return .classBound
        case "Equatable", "Hashable", "Comparable", "CustomStringConvertible", "CustomDebugStringConvertible",
             "Sequence", "Collection", "BidirectionalCollection", "RandomAccessCollection", "IteratorProtocol",
             "Encodable", "Decodable", "Identifiable", "RawRepresentable", "Numeric", "BinaryInteger",
             "FixedWidthInteger", "SignedInteger", "UnsignedInteger", "FloatingPoint", "BinaryFloatingPoint",
             "StringProtocol", "TextOutputStream", "TextOutputStreamable", "CaseIterable", "Strideable",
             "ExpressibleByStringLiteral", "ExpressibleByIntegerLiteral", "AsyncSequence", "AsyncIteratorProtocol",
             "Executor", "SerialExecutor", "TaskExecutor", "Clock", "InstantProtocol", "DurationProtocol",
             "CustomReflectable", "LosslessStringConvertible", "MutableCollection", "RangeReplaceableCollection",
             "SetAlgebra", "OptionSet":
            return .plain
        default: return nil
        }
    }
}
