/// The target's data model. All supported targets are 64-bit little-endian with 8-byte pointers and the same
/// alignments. They differ in which pointer bits Swift may reuse and which values are invalid pointers (enum
/// layouts over references, never a plain struct's), and in which types exist: `Float80` only on x86_64,
/// `Float16` not on x86_64 Darwin, and Darwin's Foundation types (`URL`, `Locale`, ...) are not the Linux
/// ones we measured. Go's layout is the same on all four. Only `x86_64-linux` is checked against swiftc by
/// the tests on this machine; the other masks come from the Swift ABI headers (`SwiftShims/System.h`).
public struct DataModel: Hashable, Sendable {
    public var name: String
    /// Bits of a native Swift heap pointer that are always zero (spare), as a 64-bit mask.
    public var heapPointerSpareBits: UInt64
    /// Pointer values below this are never valid; each is an extra inhabitant of a non-null pointer.
    public var leastValidPointer: UInt64

    public static let x86_64Linux = DataModel(name: "x86_64-linux", heapPointerSpareBits: 0xFF00_0000_0000_0007,
                                              leastValidPointer: 4096)
    public static let arm64Linux = DataModel(name: "arm64-linux", heapPointerSpareBits: 0xF000_0000_0000_0007,
                                             leastValidPointer: 4096)
    public static let x86_64Darwin = DataModel(name: "x86_64-darwin", heapPointerSpareBits: 0xFF00_0000_0000_0006,
                                               leastValidPointer: 0x1_0000_0000)
    public static let arm64Darwin = DataModel(name: "arm64-darwin", heapPointerSpareBits: 0xF000_0000_0000_0007,
                                              leastValidPointer: 0x1_0000_0000)
    public static let all = [x86_64Linux, arm64Linux, x86_64Darwin, arm64Darwin]

    public var isX86: Bool { name.hasPrefix("x86_64") }
    public var isDarwin: Bool { name.hasSuffix("darwin") }

    #if arch(arm64) && os(Linux)
    public static let host = arm64Linux
    #elseif arch(arm64)
    public static let host = arm64Darwin
    #elseif os(Linux)
    public static let host = x86_64Linux
    #else
    public static let host = x86_64Darwin
    #endif

    /// Extra inhabitants of a non-null heap pointer: every value below the least valid pointer, except 0
    /// is one too (Optional uses it), capped by Swift.
    var heapPointerExtraInhabitants: Int { Int(min(leastValidPointer, UInt64(TypeLayout.maxExtraInhabitants))) }

    /// A strong reference to a Swift class instance (also Array, ContiguousArray, AnyObject, `any Error`).
    var heapReference: TypeLayout {
        TypeLayout(size: 8, alignment: 8, extraInhabitants: heapPointerExtraInhabitants,
                   spareBits: spareMask(heapPointerSpareBits), pointerBytes: 8)
    }

    /// A 64-bit word's spare-bit mask as 8 little-endian bytes.
    func spareMask(_ mask: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: mask >> (8 * UInt64($0))) } }
}
