// The interpreter's state: the mutation scope it runs in, the symbol table, global variables, rooted
// constants, and the constructors and accessors every other file uses.
//
// Rooting rule (GoGC's contract): a cycle can start only at `m.safepoint()`, and the evaluator calls it at the
// top of each step and nowhere else. Code between two evaluator steps (the reader, the printer, primitives)
// may keep Refs in Swift locals freely; anything that must survive a nested `eval` lives on the shadow stack.
import GoGC

final class Interp {
    let layouts = Layouts()
    let gc: GC
    let m: Mutation
    /// Symbol objects, indexed by id (rooted; grown by copying). `symbols` caches the rooted array's Ref
    /// (objects never move, and the Root keeps it alive).
    let symbolArray: Root<RefArray<Obj>>
    var symbols: Ref<RefArray<Obj>>
    var symbolIds: [String: Int] = [:]
    var symbolNames: [String] = []
    /// Global values, indexed by symbol id, and whether each is bound (a global may hold '(), which is nil).
    let globalArray: Root<RefArray<Obj>>
    var globals: Ref<RefArray<Obj>>
    var globalBound: [Bool] = []
    /// Rooted constants (never freed, so their Refs are kept here directly).
    let constants: Root<RefArray<Obj>>
    let trueV: Ref<Obj>, falseV: Ref<Obj>, unspec: Ref<Obj>
    /// Integers smallIntMin..<smallIntMax, preallocated.
    static let smallIntMin = -64, smallIntMax = 1024
    let smallInts: Ref<RefArray<Obj>>
    var out = OutputBuffer()
    let sym: Syms
    /// Lowest address the evaluator's native stack may reach (recursion limit).
    var stackLimit: UInt = 0
    var primitives: [Primitive] = []
    var primitiveIds: [String: Int] = [:]

    init(_ gc: GC, _ m: Mutation) {
        self.gc = gc
        self.m = m
        symbols = m.newRefArray(count: 512, of: Obj.self)
        symbolArray = Root(m, symbols)
        globals = m.newRefArray(count: 512, of: Obj.self)
        globalArray = Root(m, globals)
        let consts = m.newRefArray(count: 3 + Interp.smallIntMax - Interp.smallIntMin, of: Obj.self)
        constants = Root(m, consts)
        let scalarLayout = Layouts().scalar
        func scalar(_ t: Tag, _ v: Int) -> Ref<Obj> {
            let r = m.new(scalarLayout, as: Obj.self)
            r[scalar: F.tag] = t.rawValue
            r[scalar: F.word1] = v
            return r
        }
        trueV = scalar(.bool, 1); falseV = scalar(.bool, 0); unspec = scalar(.unspecified, 0)
        m.store(consts, 0, trueV); m.store(consts, 1, falseV); m.store(consts, 2, unspec)
        for i in Interp.smallIntMin..<Interp.smallIntMax { m.store(consts, 3 + i - Interp.smallIntMin, scalar(.int, i)) }
        smallInts = consts
        sym = Syms()
        sym.intern(self)
        installPrimitives()
    }

    // MARK: constructors (allocate; never a safepoint)

    @inline(__always) func cons(_ a: V, _ b: V) -> Ref<Obj> {
        let p = m.new(layouts.pair, as: Obj.self)
        p[scalar: F.tag] = Tag.pair.rawValue
        m.store(p, F.a, a)
        m.store(p, F.b, b)
        return p
    }

    @inline(__always) func int(_ v: Int) -> Ref<Obj> {
        if v >= Interp.smallIntMin && v < Interp.smallIntMax { return m.load(smallInts, 3 + v - Interp.smallIntMin)! }
        let r = m.new(layouts.scalar, as: Obj.self)
        r[scalar: F.tag] = Tag.int.rawValue
        r[scalar: F.word1] = v
        return r
    }

    @inline(__always) func bool(_ b: Bool) -> Ref<Obj> { b ? trueV : falseV }

    func char(_ c: Unicode.Scalar) -> Ref<Obj> {
        let r = m.new(layouts.scalar, as: Obj.self)
        r[scalar: F.tag] = Tag.char.rawValue
        r[scalar: F.word1] = Int(c.value)
        return r
    }

    func string(_ bytes: some Collection<UInt8>) -> Ref<Obj> {
        let buf = m.newBytes(bytes.count)
        var i = 0
        for b in bytes { buf.bytes[i] = b; i += 1 }
        let s = m.new(layouts.string, as: Obj.self)
        s[scalar: F.tag] = Tag.string.rawValue
        s[scalar: F.word1] = bytes.count
        m.store(s, F.b, buf.cast(to: Obj.self))
        return s
    }

    func string(_ s: String) -> Ref<Obj> { string(Array(s.utf8)) }

    func vector(count: Int, fill: V) -> Ref<Obj> {
        let items = m.newRefArray(count: count, of: Obj.self)
        if fill != nil { for i in 0..<count { m.store(items, i, fill) } }
        let v = m.new(layouts.vector, as: Obj.self)
        v[scalar: F.tag] = Tag.vector.rawValue
        v[scalar: F.word1] = count
        m.store(v, F.b, items.cast(to: Obj.self))
        return v
    }

    func closure(params: V, body: V, env: V, name: V) -> Ref<Obj> {
        let c = m.new(layouts.closure, as: Obj.self)
        c[scalar: F.tag] = Tag.closure.rawValue
        m.store(c, F.a, params)
        m.store(c, F.b, body)
        m.store(c, F.c, env)
        m.store(c, F.d, name)
        return c
    }

    func frame(parent: V, names: V, values: V) -> Ref<Obj> {
        let f = m.new(layouts.frame, as: Obj.self)
        f[scalar: F.tag] = Tag.frame.rawValue
        m.store(f, F.a, parent)
        m.store(f, F.b, names)
        m.store(f, F.c, values)
        return f
    }

    // MARK: accessors

    @inline(__always) func car(_ p: V) throws -> V {
        guard let p = p, p.tag == .pair else { throw SchemeError(message: "car: not a pair: \(show(p))") }
        return m.load(p, F.a)
    }
    @inline(__always) func cdr(_ p: V) throws -> V {
        guard let p = p, p.tag == .pair else { throw SchemeError(message: "cdr: not a pair: \(show(p))") }
        return m.load(p, F.b)
    }
    @inline(__always) func cadr(_ p: V) throws -> V { try car(cdr(p)) }
    @inline(__always) func cddr(_ p: V) throws -> V { try cdr(cdr(p)) }
    /// car/cdr of a value known to be a pair.
    @inline(__always) func first(_ p: Ref<Obj>) -> V { m.load(p, F.a) }
    @inline(__always) func rest(_ p: Ref<Obj>) -> V { m.load(p, F.b) }

    @inline(__always) func isTrue(_ v: V) -> Bool { v != falseV }

    func intValue(_ v: V, _ who: String) throws -> Int {
        guard let v = v, v.tag == .int else { throw SchemeError(message: "\(who): not an integer: \(show(v))") }
        return v.word1
    }

    func stringBytes(_ v: Ref<Obj>) -> UnsafeBufferPointer<UInt8> {
        let buf = m.load(v, F.b)!.cast(to: UInt8.self)
        return UnsafeBufferPointer(start: buf.bytes, count: v.word1)
    }

    func swiftString(_ v: Ref<Obj>) -> String { String(decoding: stringBytes(v), as: UTF8.self) }

    func listToArray(_ l: V) throws -> [V] {
        var a: [V] = []
        var p = l
        while let q = p {
            guard q.tag == .pair else { throw SchemeError(message: "not a proper list") }
            a.append(first(q))
            p = rest(q)
        }
        return a
    }

    func list(_ items: [V]) -> V {
        var l: V = nil
        for x in items.reversed() { l = cons(x, l) }
        return l
    }

    // MARK: symbols and globals

    /// The symbol object named `name` (interned; rooted forever).
    func symbol(_ name: String) -> Ref<Obj> {
        if let id = symbolIds[name] { return m.load(symbols, id)! }
        let id = symbolNames.count
        symbolIds[name] = id
        symbolNames.append(name)
        globalBound.append(false)
        if id >= symbols.count {
            symbols = grow(symbolArray)
            globals = grow(globalArray)
        }
        let s = m.new(layouts.scalar, as: Obj.self)
        s[scalar: F.tag] = Tag.symbol.rawValue
        s[scalar: F.word1] = id
        m.store(symbols, id, s)
        return s
    }

    /// Doubles a rooted array, copying its items.
    private func grow(_ root: Root<RefArray<Obj>>) -> Ref<RefArray<Obj>> {
        let old = root.get(m)!
        let new = m.newRefArray(count: old.count * 2, of: Obj.self)
        for i in 0..<old.count { m.store(new, i, m.load(old, i)) }
        root.set(m, new)
        return new
    }

    func symbolName(_ s: Ref<Obj>) -> String { symbolNames[s.word1] }

    func defineGlobal(_ s: Ref<Obj>, _ v: V) {
        globalBound[s.word1] = true
        m.store(globals, s.word1, v)
    }

    func global(_ s: Ref<Obj>) throws -> V {
        guard globalBound[s.word1] else { throw SchemeError(message: "unbound variable: \(symbolName(s))") }
        return m.load(globals, s.word1)
    }
}

/// Symbols the evaluator recognizes (special forms and a few markers), interned at start.
final class Syms {
    var quote: V = nil, quasiquote: V = nil, unquote: V = nil, unquoteSplicing: V = nil
    var define: V = nil, lambda: V = nil, if_: V = nil, set: V = nil, begin: V = nil
    var let_: V = nil, letStar: V = nil, letrec: V = nil, letrecStar: V = nil, cond: V = nil, case_: V = nil
    var and: V = nil, or: V = nil, when: V = nil, unless: V = nil, do_: V = nil, else_: V = nil, arrow: V = nil
    /// Special form by symbol id (these symbols are interned first, so their ids are small).
    var forms: [Form?] = []

    enum Form { case quote, quasiquote, define, lambda, if_, set, begin, let_, letStar, letrec, cond, case_, and, or, when, unless, do_ }

    func intern(_ i: Interp) {
        func s(_ n: String, _ f: Form? = nil) -> V {
            let r = i.symbol(n)
            if let f = f {
                while forms.count <= r.word1 { forms.append(nil) }
                forms[r.word1] = f
            }
            return r
        }
        quote = s("quote", .quote); quasiquote = s("quasiquote", .quasiquote)
        unquote = s("unquote"); unquoteSplicing = s("unquote-splicing")
        define = s("define", .define); lambda = s("lambda", .lambda); if_ = s("if", .if_); set = s("set!", .set)
        begin = s("begin", .begin); let_ = s("let", .let_); letStar = s("let*", .letStar)
        letrec = s("letrec", .letrec); letrecStar = s("letrec*", .letrec); cond = s("cond", .cond)
        case_ = s("case", .case_); and = s("and", .and); or = s("or", .or); when = s("when", .when)
        unless = s("unless", .unless); do_ = s("do", .do_); else_ = s("else"); arrow = s("=>")
    }
}
