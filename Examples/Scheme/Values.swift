// Scheme values as GoGC objects.
//
// Every object starts with a tag word; the words after it depend on the tag (see `Tag`). A value is a
// `Ref<Obj>?`: nil is the empty list, everything else (numbers, booleans, characters too) is a heap object,
// so a reference field never holds anything but nil or an object, which is all the collector asks.
// Booleans, the unspecified value and small integers are allocated once and rooted, so they can be compared by
// identity and never cost an allocation. GoGC never moves objects: a rooted object's Ref stays valid forever.
import GoGC

/// The common shape: a tag and four words. Each tag's layout says which of the four are references.
struct Obj {
    var tag: Int
    var a: Ref<Obj>?
    var b: Ref<Obj>?
    var c: Ref<Obj>?
    var d: Ref<Obj>?
}

typealias V = Ref<Obj>?

enum Tag: Int {
    case pair = 1       // a: car, b: cdr
    case int            // word 1: value
    case string         // word 1: byte count, b: bytes (a noscan buffer)
    case symbol         // word 1: id in the symbol table
    case closure        // a: params, b: body, c: environment frame, d: name (a symbol or nil)
    case primitive      // word 1: index in the primitive table
    case vector         // word 1: length, b: items (a RefArray)
    case bool           // word 1: 0 or 1
    case unspecified
    case char           // word 1: Unicode scalar value
    case frame          // a: parent frame, b: names (list of symbols), c: values (list, same length)
}

/// Field accessors, computed (not `static let`: those cost a `swift_once` check on every use).
enum F {
    static var tag: ScalarField<Obj, Int> { @inline(__always) get { ScalarField(offset: 0) } }
    static var word1: ScalarField<Obj, Int> { @inline(__always) get { ScalarField(offset: 8) } }
    static var a: RefField<Obj, Obj> { @inline(__always) get { RefField(offset: 8) } }
    static var b: RefField<Obj, Obj> { @inline(__always) get { RefField(offset: 16) } }
    static var c: RefField<Obj, Obj> { @inline(__always) get { RefField(offset: 24) } }
    static var d: RefField<Obj, Obj> { @inline(__always) get { RefField(offset: 32) } }
}

/// One layout per tag, resolved once (the interpreter keeps an instance: reading a stored property is cheaper
/// than a `static let`).
struct Layouts {
    let pair = GCLayout(size: 24, pointerOffsets: [8, 16])
    let scalar = GCLayout.bytes(16)                              // int, symbol, primitive, bool, char, unspecified
    let string = GCLayout(size: 24, pointerOffsets: [16])
    let vector = GCLayout(size: 24, pointerOffsets: [16])
    let closure = GCLayout(size: 40, pointerOffsets: [8, 16, 24, 32])
    let frame = GCLayout(size: 32, pointerOffsets: [8, 16, 24])
}

struct SchemeError: Error {
    let message: String
}

extension Ref where T == Obj {
    @inline(__always) var tag: Tag { Tag(rawValue: self[scalar: F.tag])! }
    @inline(__always) var word1: Int { self[scalar: F.word1] }
}

@inline(__always) func tagOf(_ v: V) -> Tag? { v?.tag }
