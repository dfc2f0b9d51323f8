/// The field order with the smallest stride.
///
/// Go: every size is a multiple of its alignment, so placing zero-size fields first and then sorting by
/// alignment, largest first, leaves no interior padding; the size is then the sum of sizes rounded up to the
/// largest alignment, which no order can beat. Within an alignment, the order then minimizes the bytes the GC
/// scans (pointer bytes: the end of the last pointer word), as fieldalignment's does: pointerful fields first,
/// the one with the most pointer-free bytes at its end last among them, then larger before smaller, then the
/// declared order. The declared order is kept unless the suggestion is smaller, or as small with fewer
/// pointer bytes (fieldalignment's second finding).
///
/// Swift: sizes need not be multiples of alignment (`Int?` is 9 bytes, align 8), and smaller fields can fill
/// the hole after a ragged one, so sorting by alignment is not always best. Placement is monotone (a smaller
/// end offset never makes any later field land later), so the minimal end offset of a *set* of placed fields
/// depends only on the set: dynamic programming over sets is exact. Fields with the same (size, alignment) are
/// interchangeable, so the state is a count per kind; the search is exact while that state space stays under
/// `exactStateLimit` (2^22: at worst 54 MB and 0.5 s, measured with swiftc -O on 22 distinct kinds; every
/// struct of up to 22 fields fits, and so do longer ones with repeated kinds). Above it we use greedy alignment-descending placement
/// that fills each hole with the largest fields that fit, and say the result is heuristic unless it has no
/// padding at all (then nothing can beat it).
public enum OptimalOrder {
    public static let exactStateLimit = 1 << 22

    public struct Result: Hashable, Sendable {
        /// Indices into the input fields, in the suggested order.
        public var order: [Int]
        public var placement: Placement
        /// True when the order is proven minimal.
        public var exact: Bool
    }

    public static func best(_ fields: [TypeLayout], language: Language) -> Result {
        let current = language.place(fields)
        let candidate: Result
        switch language {
        case .go: candidate = goOrder(fields)
        case .swift: candidate = swiftOrder(fields)
        }
        // Never suggest churn: keep the declared order when it is already as good.
        if current.size < candidate.placement.size { return Result(order: Array(fields.indices), placement: current, exact: candidate.exact) }
        if current.size == candidate.placement.size {
            let scansLess = language == .go
                && Language.go.aggregate(candidate.order.map { fields[$0] }).pointerBytes < Language.go.aggregate(fields).pointerBytes
            if !scansLess { return Result(order: Array(fields.indices), placement: current, exact: candidate.exact) }
        }
        return candidate
    }

    static func goOrder(_ fields: [TypeLayout]) -> Result {
        let order = fields.indices.sorted { a, b in
            let (fa, fb) = (fields[a], fields[b])
            if (fa.size == 0) != (fb.size == 0) { return fa.size == 0 }
            if fa.alignment != fb.alignment { return fa.alignment > fb.alignment }
            if (fa.pointerBytes > 0) != (fb.pointerBytes > 0) { return fa.pointerBytes > 0 }
            if fa.pointerBytes > 0, fa.size - fa.pointerBytes != fb.size - fb.pointerBytes {
                return fa.size - fa.pointerBytes < fb.size - fb.pointerBytes
            }
            if fa.size != fb.size { return fa.size > fb.size }
            return a < b
        }
        return Result(order: order, placement: Language.go.place(order.map { fields[$0] }), exact: true)
    }

    static func swiftOrder(_ fields: [TypeLayout]) -> Result {
        // Kinds of interchangeable fields, and each kind's members in declared order.
        var kindOf: [Key: Int] = [:]
        var members: [[Int]] = []
        var kinds: [Key] = []
        for (i, f) in fields.enumerated() {
            let k = Key(size: f.size, alignment: f.alignment)
            if let existing = kindOf[k] { members[existing].append(i) } else {
                kindOf[k] = kinds.count; kinds.append(k); members.append([i])
            }
        }
        var states = 1
        for m in members {
            states = states.multipliedReportingOverflow(by: m.count + 1).partialValue
            if states > exactStateLimit || states <= 0 { return greedy(fields) }
        }
        return exactDP(fields, kinds: kinds, members: members, states: states)
    }

    struct Key: Hashable { var size: Int; var alignment: Int }

    /// Mixed-radix DP: state = how many of each kind are placed; value = minimal end offset.
    static func exactDP(_ fields: [TypeLayout], kinds: [Key], members: [[Int]], states: Int) -> Result {
        var radix: [Int] = []
        var r = 1
        for m in members { radix.append(r); r *= m.count + 1 }
        var best = [Int](repeating: Int.max, count: states)
        var lastKind = [Int8](repeating: -1, count: states)
        best[0] = 0
        // Every successor of a state has a larger index, so one ascending pass suffices. `placed` is the state's
        // digits, advanced like an odometer (no division per state and kind).
        let limits = members.map(\.count)
        var placed = [Int](repeating: 0, count: kinds.count)
        for s in 0..<states {
            if best[s] != Int.max {
                for (k, kind) in kinds.enumerated() where placed[k] < limits[k] {
                    let t = s + radix[k]
                    let end = roundUp(best[s], kind.alignment) + kind.size
                    if end < best[t] { best[t] = end; lastKind[t] = Int8(truncatingIfNeeded: k) }
                }
            }
            var d = 0
            while d < placed.count {
                if placed[d] < limits[d] { placed[d] += 1; break }
                placed[d] = 0
                d += 1
            }
        }
        var kindSequence: [Int] = []
        var s = states - 1
        while s != 0 { let k = Int(lastKind[s]); kindSequence.append(k); s -= radix[k] }
        kindSequence.reverse()
        var next = [Int](repeating: 0, count: kinds.count)
        let order = kindSequence.map { k -> Int in defer { next[k] += 1 }; return members[k][next[k]] }
        return Result(order: order, placement: Language.swift.place(order.map { fields[$0] }), exact: true)
    }

    /// Alignment descending; before each field, fill the hole its alignment would leave with the largest
    /// remaining fields of smaller alignment that fit entirely inside it.
    static func greedy(_ fields: [TypeLayout]) -> Result {
        var remaining = fields.indices.sorted {
            (fields[$0].alignment, fields[$0].size, -$0) > (fields[$1].alignment, fields[$1].size, -$1)
        }
        var order: [Int] = []
        var end = 0
        while let first = remaining.first {
            let f = fields[first]
            var hole = roundUp(end, f.alignment) - end
            var i = 1
            while hole > 0 && i < remaining.count {
                let g = fields[remaining[i]]
                let start = roundUp(end, g.alignment)
                if start + g.size <= roundUp(end, f.alignment) {
                    order.append(remaining.remove(at: i))
                    end = start + g.size
                    hole = roundUp(end, f.alignment) - end
                } else { i += 1 }
            }
            order.append(remaining.removeFirst())
            end = roundUp(end, f.alignment) + f.size
        }
        let placement = Language.swift.place(order.map { fields[$0] })
        return Result(order: order, placement: placement, exact: placement.size == fields.reduce(0) { $0 + $1.size })
    }
}
