// The evaluator: an AST walker over the S-expressions themselves, with proper tail calls.
//
// Each `eval` call owns six shadow-stack slots (see `S`). Everything it needs after a nested `eval` (which may
// reach a safepoint and so a collection) is kept there and reloaded afterwards; Swift locals hold Refs only
// between two such calls. Tail positions (if branches, the last expression of a body, closure calls) do not
// recurse: they replace the expression and environment slots and go round the loop, so loops written as tail
// calls run in constant native and shadow stack.
import GoGC

/// Slot offsets of an eval frame on the shadow stack.
enum S {
    static let x = 0, env = 1, fn = 2, head = 3, tail = 4, rest = 5, count = 6
}

/// What `evalInto` evaluates for each element of the list in the `rest` slot.
enum Pick { case element, bindingInit, bindingStep }

extension Interp {
    @inline(__always) func get(_ i: Int) -> V { m.stackSlot(i, as: Obj.self) }
    @inline(__always) func put(_ i: Int, _ v: V) { m.setStackSlot(i, v) }

    func eval(_ x: V, _ env: V) throws -> V {
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        if sp < stackLimit { throw SchemeError(message: "recursion too deep (native stack exhausted)") }
        let b = m.stackDepth
        m.push(x); m.push(env)
        for _ in 2..<S.count { m.push(Optional<Ref<Obj>>.none) }
        defer { m.popStack(to: b) }
        return try evalLoop(b)
    }

    private func evalLoop(_ b: Int) throws -> V {
        step: while true {
            m.safepoint()   // the only safepoint: every live value is in a slot here
            guard let x = get(b + S.x) else { throw SchemeError(message: "cannot evaluate the empty combination ()") }
            switch x.tag {
            case .symbol: return try lookup(x, get(b + S.env))
            case .pair: break
            default: return x
            }
            if let h = first(x), h.tag == .symbol, h.word1 < sym.forms.count, let form = sym.forms[h.word1] {
                switch form {
                case .quote: return try cadr(x)
                case .quasiquote: return try quasi(try cadr(x), b)
                case .lambda: return closure(params: try cadr(x), body: try cddr(x), env: get(b + S.env), name: nil)
                case .if_:
                    let test = try eval(try cadr(x), get(b + S.env))
                    let arms = try cddr(get(b + S.x))
                    if isTrue(test) {
                        put(b + S.x, try car(arms))
                    } else {
                        guard let e = try cdr(arms) else { return unspec }
                        put(b + S.x, try car(e))
                    }
                    continue step
                case .define: return try evalDefine(b)
                case .set:
                    let v = try eval(try car(try cddr(x)), get(b + S.env))
                    try assign(try cadr(get(b + S.x)), v, get(b + S.env))
                    return unspec
                case .begin:
                    guard let body = try cdr(x) else { return unspec }
                    try tailBody(b, body)
                    continue step
                case .let_: try evalLet(b); continue step
                case .letStar: try evalLetStar(b); continue step
                case .letrec: try evalLetrec(b); continue step
                case .do_:
                    if let v = try evalDo(b) { return v.value }
                    continue step
                case .when, .unless:
                    let test = try eval(try cadr(x), get(b + S.env))
                    if isTrue(test) != (form == .when) { return unspec }
                    guard let body = try cddr(get(b + S.x)) else { return unspec }
                    try tailBody(b, body)
                    continue step
                case .and, .or:
                    put(b + S.rest, try cdr(x))
                    guard get(b + S.rest) != nil else { return bool(form == .and) }
                    while let cur = get(b + S.rest) {
                        guard let next = rest(cur) else { put(b + S.x, first(cur)); continue step }
                        _ = next
                        let v = try eval(first(cur), get(b + S.env))
                        if isTrue(v) != (form == .and) { return v }
                        put(b + S.rest, rest(get(b + S.rest)!))
                    }
                    return unspec
                case .cond:
                    switch try evalCond(b) {
                    case .value(let v): return v
                    case .tail: continue step
                    case .apply: break
                    }
                    if let v = try applyProcedure(b) { return v.value }
                    continue step
                case .case_:
                    let key = try eval(try cadr(x), get(b + S.env))
                    var clauses = try cddr(get(b + S.x))
                    while let cl = clauses {
                        let clause = first(cl)
                        let data = try car(clause)
                        var hit = data == sym.else_
                        var d = data
                        while !hit, let p = d, p.tag == .pair {
                            if eqv(first(p), key) { hit = true }
                            d = rest(p)
                        }
                        if hit {
                            guard let body = try cdr(clause) else { return unspec }
                            try tailBody(b, body)
                            continue step
                        }
                        clauses = rest(cl)
                    }
                    return unspec
                }
            }
            // An application: the operator, then the operands left to right, then the call.
            let f = try eval(first(x), get(b + S.env))
            put(b + S.fn, f)
            put(b + S.rest, rest(get(b + S.x)!))
            try evalInto(b, .element)
            if let v = try applyProcedure(b) { return v.value }
        }
    }

    /// A boxed result, so `nil` (the empty list) can be returned where "no value: go round" is also needed.
    struct Done { let value: V }

    /// Calls the procedure in the fn slot on the argument list in the head slot. A primitive's result is
    /// returned; a closure call sets up the x and env slots for the evaluator's loop and returns nil.
    func applyProcedure(_ b: Int) throws -> Done? {
        while true {
            guard let f = get(b + S.fn) else { throw SchemeError(message: "not a procedure: ()") }
            switch f.tag {
            case .primitive:
                let p = primitives[f.word1]
                let args = get(b + S.head)
                let n = try length(args)
                if n < p.minArgs || (p.maxArgs >= 0 && n > p.maxArgs) {
                    throw SchemeError(message: "\(p.name): wrong number of arguments (\(n))")
                }
                switch p.kind {
                case .normal:
                    return Done(value: try p.fn(self, Args(list: args, count: n)))
                case .apply:
                    // (apply f a ... list): call f on a ... followed by the elements of list.
                    let all = try listToArray(args)
                    var spread = try listToArray(all[all.count - 1])
                    spread.insert(contentsOf: all[1..<(all.count - 1)], at: 0)
                    put(b + S.fn, all[0])
                    put(b + S.head, list(spread))
                case .collect:
                    // A safepoint inside a primitive: the arguments are in a slot, nothing else is live.
                    m.collect()
                    return Done(value: unspec)
                }
            case .closure:
                let env = try bind(params: m.load(f, F.a), args: get(b + S.head), parent: m.load(f, F.c), f)
                put(b + S.env, env)
                guard let body = m.load(get(b + S.fn)!, F.b) else { return Done(value: unspec) }
                try tailBody(b, body)
                return nil
            default:
                throw SchemeError(message: "not a procedure: \(show(f))")
            }
        }
    }

    /// A new frame binding a closure's parameters (a proper list, a dotted list or a single symbol) to `args`.
    func bind(params: V, args: V, parent: V, _ f: Ref<Obj>) throws -> Ref<Obj> {
        var p = params, a = args, proper = true, n = 0
        while let pp = p, pp.tag == .pair {
            guard let aa = a else { throw arityError(f, args) }
            p = rest(pp); a = rest(aa); n += 1
        }
        if p == nil {
            if a != nil { throw arityError(f, args) }
        } else {
            proper = false
        }
        if proper { return frame(parent: parent, names: params, values: args) }
        // Dotted: names are the fixed parameters then the rest parameter; values the first n arguments then
        // the list of the others.
        var names: [V] = [], values: [V] = []
        p = params; a = args
        for _ in 0..<n { names.append(first(p!)); values.append(first(a!)); p = rest(p!); a = rest(a!) }
        names.append(p); values.append(a)
        return frame(parent: parent, names: list(names), values: list(values))
    }

    func arityError(_ f: Ref<Obj>, _ args: V) -> SchemeError {
        let name = m.load(f, F.d).map { symbolName($0) } ?? "#<procedure>"
        return SchemeError(message: "\(name): wrong number of arguments (\((try? length(args)) ?? -1))")
    }

    /// Evaluates all but the last expression of `body` (a non-empty list) and leaves the last in the x slot.
    func tailBody(_ b: Int, _ body: Ref<Obj>) throws {
        put(b + S.rest, body)
        while true {
            let cur = get(b + S.rest)!
            guard rest(cur) != nil else { put(b + S.x, first(cur)); return }
            _ = try eval(first(cur), get(b + S.env))
            put(b + S.rest, rest(get(b + S.rest)!))
        }
    }

    /// Evaluates the list in the rest slot (elements, binding inits or binding steps) into a new list in the
    /// head slot, left to right.
    func evalInto(_ b: Int, _ pick: Pick) throws {
        put(b + S.head, nil)
        put(b + S.tail, nil)
        while let cur = get(b + S.rest) {
            guard cur.tag == .pair else { throw SchemeError(message: "improper list in a combination") }
            let e: V
            switch pick {
            case .element: e = first(cur)
            case .bindingInit: e = try cadr(first(cur))
            case .bindingStep:
                let binding = first(cur)
                let step = try cddr(binding)
                e = step == nil ? try car(binding) : try car(step)
            }
            let v = try eval(e, get(b + S.env))
            let cell = cons(v, nil)
            if let t = get(b + S.tail) { m.store(t, F.b, cell) } else { put(b + S.head, cell) }
            put(b + S.tail, cell)
            put(b + S.rest, rest(get(b + S.rest)!))
        }
    }

    /// The names of a binding list ((name init) ...).
    func bindingNames(_ bindings: V) throws -> V {
        var names: [V] = []
        var p = bindings
        while let q = p {
            let n = try car(first(q))
            guard let s = n, s.tag == .symbol else { throw SchemeError(message: "bad binding: \(show(first(q)))") }
            names.append(s)
            p = rest(q)
        }
        return list(names)
    }

    /// (define name expr) or (define (name . params) body...). Returns the unspecified value.
    func evalDefine(_ b: Int) throws -> V {
        let x = get(b + S.x)!
        let target = try cadr(x)
        if let t = target, t.tag == .pair {
            let c = closure(params: rest(t), body: try cddr(x), env: get(b + S.env), name: first(t))
            try define(first(t), c, get(b + S.env))
            return unspec
        }
        guard let t = target, t.tag == .symbol else { throw SchemeError(message: "define: bad target \(show(target))") }
        let valueExpr = try cddr(x)
        let v = valueExpr == nil ? unspec : try eval(try car(valueExpr), get(b + S.env))
        let name = try cadr(get(b + S.x))
        if let c = v, c.tag == .closure, m.load(c, F.d) == nil { m.store(c, F.d, name) }
        try define(name, v, get(b + S.env))
        return unspec
    }

    /// (let ((v e) ...) body...) and named let (let name ((v e) ...) body...).
    func evalLet(_ b: Int) throws {
        let x = get(b + S.x)!
        let second = try cadr(x)
        let named = second != nil && second!.tag == .symbol
        put(b + S.rest, named ? try car(try cddr(x)) : second)
        try evalInto(b, .bindingInit)
        let x2 = get(b + S.x)!
        let bindings = named ? try car(try cddr(x2)) : try cadr(x2)
        let body = named ? try cdr(try cddr(x2)) : try cddr(x2)
        let names = try bindingNames(bindings)
        var parent = get(b + S.env)
        if named {
            // The loop procedure is bound in a frame of its own, visible from its body.
            let loopFrame = frame(parent: parent, names: cons(second, nil), values: cons(unspec, nil))
            let proc = closure(params: names, body: body, env: loopFrame, name: second)
            m.store(m.load(loopFrame, F.c)!, F.a, proc)
            parent = loopFrame
        }
        put(b + S.env, frame(parent: parent, names: names, values: get(b + S.head)))
        guard let body = body else { put(b + S.x, unspec); return }
        try tailBody(b, body)
    }

    /// (let* ((v e) ...) body...): one frame per binding.
    func evalLetStar(_ b: Int) throws {
        put(b + S.rest, try cadr(get(b + S.x)!))
        while let cur = get(b + S.rest) {
            let v = try eval(try cadr(first(cur)), get(b + S.env))
            let name = try car(first(get(b + S.rest)!))
            put(b + S.env, frame(parent: get(b + S.env), names: cons(name, nil), values: cons(v, nil)))
            put(b + S.rest, rest(get(b + S.rest)!))
        }
        guard let body = try cddr(get(b + S.x)!) else { put(b + S.x, unspec); return }
        try tailBody(b, body)
    }

    /// (letrec ((v e) ...) body...): the frame exists (values unspecified) while the inits are evaluated in it.
    func evalLetrec(_ b: Int) throws {
        let bindings = try cadr(get(b + S.x)!)
        let names = try bindingNames(bindings)
        var values: V = nil
        var p = names
        while let q = p { values = cons(unspec, values); p = rest(q) }
        put(b + S.env, frame(parent: get(b + S.env), names: names, values: values))
        put(b + S.tail, values)
        put(b + S.rest, bindings)
        while let cur = get(b + S.rest) {
            let v = try eval(try cadr(first(cur)), get(b + S.env))
            m.store(get(b + S.tail)!, F.a, v)
            put(b + S.tail, rest(get(b + S.tail)!))
            put(b + S.rest, rest(get(b + S.rest)!))
        }
        guard let body = try cddr(get(b + S.x)!) else { put(b + S.x, unspec); return }
        try tailBody(b, body)
    }

    /// (do ((var init step) ...) (test result...) body...). Returns a value, or nil after setting up the
    /// result expressions as a tail.
    func evalDo(_ b: Int) throws -> Done? {
        put(b + S.rest, try cadr(get(b + S.x)!))
        try evalInto(b, .bindingInit)
        let names = try bindingNames(try cadr(get(b + S.x)!))
        put(b + S.env, frame(parent: get(b + S.env), names: names, values: get(b + S.head)))
        while true {
            m.safepoint()
            let clause = try car(try cddr(get(b + S.x)!))
            let test = try eval(try car(clause), get(b + S.env))
            if isTrue(test) {
                guard let results = try cdr(try car(try cddr(get(b + S.x)!))) else { return Done(value: unspec) }
                try tailBody(b, results)
                return nil
            }
            put(b + S.rest, try cdr(try cddr(get(b + S.x)!)))
            while let cur = get(b + S.rest) {
                _ = try eval(first(cur), get(b + S.env))
                put(b + S.rest, rest(get(b + S.rest)!))
            }
            put(b + S.rest, try cadr(get(b + S.x)!))
            try evalInto(b, .bindingStep)
            let f = get(b + S.env)!
            put(b + S.env, frame(parent: m.load(f, F.a), names: m.load(f, F.b), values: get(b + S.head)))
        }
    }

    enum CondResult { case value(V), tail, apply }

    /// cond: the first clause whose test is true. `(test => f)` leaves f and (value) in the fn and head slots.
    func evalCond(_ b: Int) throws -> CondResult {
        put(b + S.rest, try cdr(get(b + S.x)!))
        while let cl = get(b + S.rest) {
            let clause = first(cl)
            let test = try car(clause)
            if test == sym.else_ {
                guard let body = try cdr(clause) else { return .value(unspec) }
                try tailBody(b, body)
                return .tail
            }
            let v = try eval(test, get(b + S.env))
            if isTrue(v) {
                guard let body = try cdr(first(get(b + S.rest)!)) else { return .value(v) }
                if first(body) == sym.arrow {
                    put(b + S.head, cons(v, nil))
                    let f = try eval(try cadr(body), get(b + S.env))
                    put(b + S.fn, f)
                    return .apply
                }
                try tailBody(b, body)
                return .tail
            }
            put(b + S.rest, rest(get(b + S.rest)!))
        }
        return .value(unspec)
    }

    /// quasiquote with unquote and unquote-splicing (one level; nested quasiquotes are not special).
    func quasi(_ t: V, _ b: Int) throws -> V {
        guard let p = t, p.tag == .pair else { return t }
        if first(p) == sym.unquote { return try eval(try cadr(p), get(b + S.env)) }
        let base = m.stackDepth
        m.push(p); m.push(Optional<Ref<Obj>>.none); m.push(Optional<Ref<Obj>>.none)   // template left, head, tail
        defer { m.popStack(to: base) }
        func append(_ cell: Ref<Obj>) {
            if let t = get(base + 2) { m.store(t, F.b, cell) } else { put(base + 1, cell) }
            put(base + 2, cell)
        }
        while let cur = get(base) {
            if cur.tag != .pair || first(cur) == sym.unquote {
                // A dotted tail: `(a . ,b)` reads as (a unquote b).
                let v = try quasi(cur, b)
                if let t = get(base + 2) { m.store(t, F.b, v) } else { put(base + 1, v) }
                break
            }
            let el = first(cur)
            if let e = el, e.tag == .pair, first(e) == sym.unquoteSplicing {
                var items = try eval(try cadr(e), get(b + S.env))
                while let q = items, q.tag == .pair {
                    let next = rest(q)
                    append(cons(first(q), nil))
                    items = next
                }
            } else {
                let v = try quasi(el, b)
                append(cons(v, nil))
            }
            put(base, rest(get(base)!))
        }
        return get(base + 1)
    }

    // MARK: environments

    func lookup(_ s: Ref<Obj>, _ env: V) throws -> V {
        var e = env
        while let f = e {
            var names = m.load(f, F.b), vals = m.load(f, F.c)
            while let n = names {
                if first(n) == s { return first(vals!) }
                names = rest(n); vals = rest(vals!)
            }
            e = m.load(f, F.a)
        }
        return try global(s)
    }

    func assign(_ name: V, _ v: V, _ env: V) throws {
        guard let s = name, s.tag == .symbol else { throw SchemeError(message: "set!: not a symbol: \(show(name))") }
        var e = env
        while let f = e {
            var names = m.load(f, F.b), vals = m.load(f, F.c)
            while let n = names {
                if first(n) == s { m.store(vals!, F.a, v); return }
                names = rest(n); vals = rest(vals!)
            }
            e = m.load(f, F.a)
        }
        _ = try global(s)   // unbound: error
        defineGlobal(s, v)
    }

    /// Binds `name` in the innermost frame (or globally at top level), replacing an existing binding there.
    func define(_ name: V, _ v: V, _ env: V) throws {
        guard let s = name, s.tag == .symbol else { throw SchemeError(message: "define: not a symbol: \(show(name))") }
        guard let f = env else { defineGlobal(s, v); return }
        var names = m.load(f, F.b), vals = m.load(f, F.c)
        while let n = names {
            if first(n) == s { m.store(vals!, F.a, v); return }
            names = rest(n); vals = rest(vals!)
        }
        let newNames = cons(s, m.load(f, F.b))
        let newVals = cons(v, m.load(f, F.c))
        m.store(f, F.b, newNames)
        m.store(f, F.c, newVals)
    }

    func length(_ l: V) throws -> Int {
        var n = 0
        var p = l
        while let q = p {
            guard q.tag == .pair else { throw SchemeError(message: "not a proper list: \(show(l))") }
            n += 1
            p = rest(q)
        }
        return n
    }
}
