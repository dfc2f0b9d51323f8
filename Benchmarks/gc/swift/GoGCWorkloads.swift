// The GC workloads on GoGC. One mutator runs the whole program in one scope. Rooting follows GoGC's rule:
// a collection can start only at `safepoint()`, so every Ref needed after one is on the shadow stack (or in
// an object, or a Root). Tree builders take a safepoint on entry when at least 4 levels remain (one check per
// 31 nodes or more); a builder's own partial node is on the shadow stack while it builds children.
#if canImport(Glibc)
import Glibc
#endif
import GoGC

enum GoGCWorkloads {
    struct Tree {
        var left: Ref<Tree>?
        var right: Ref<Tree>?
    }
    /// A layout and its fields, resolved once from key paths and passed down: reading a `static let` from a
    /// hot loop costs a `swift_once` check each time.
    struct Shape<T> {
        let layout: GCLayout
        let left: RefField<T, T>
        let right: RefField<T, T>
    }
    static func treeShape() -> Shape<Tree> {
        Shape(layout: GCLayout(of: Tree.self, references: [\Tree.left, \Tree.right]),
              left: RefField(\Tree.left), right: RefField(\Tree.right))
    }

    static func bottomUp(_ m: Mutation, _ shape: Shape<Tree>, _ d: Int) -> Ref<Tree> {
        if d >= 4 { m.safepoint() }   // the caller's partial node (if any) is on the shadow stack
        let t = m.new(shape.layout, as: Tree.self)
        if d == 0 { return t }
        let slot = m.push(t)
        let l = bottomUp(m, shape, d - 1)
        m.store(m.stackSlot(slot, as: Tree.self)!, shape.left, l)
        let r = bottomUp(m, shape, d - 1)
        let t2 = m.stackSlot(slot, as: Tree.self)!
        m.store(t2, shape.right, r)
        m.popStack(to: slot)
        return t2
    }

    /// Counts a tree's nodes, polling for a safepoint every 31+ nodes so a collection never waits for a whole
    /// traversal. Safe because the caller has the root on the shadow stack (`checkRooted`) and the walk
    /// mutates nothing: every node it holds in a local is reachable from that root, and objects never move.
    static func check(_ m: Mutation, _ shape: Shape<Tree>, _ t: Ref<Tree>, _ d: Int) -> Int {
        if d >= 4 { m.safepoint() }
        guard let l = m.load(t, shape.left), let r = m.load(t, shape.right) else { return 1 }
        return 1 + check(m, shape, l, d - 1) + check(m, shape, r, d - 1)
    }

    static func checkRooted(_ m: Mutation, _ shape: Shape<Tree>, _ t: Ref<Tree>, _ d: Int) -> Int {
        let slot = m.push(t)
        defer { m.popStack(to: slot) }
        return check(m, shape, t, d)
    }

    static func binaryTrees(_ n: Int) {
        let minDepth = 4, maxDepth = max(minDepth + 2, n)
        let mutator = GC.shared.makeMutator()
        let shape = treeShape()
        mutator.run { m in
            print("stretch tree of depth \(maxDepth + 1)\t check: \(checkRooted(m, shape, bottomUp(m, shape, maxDepth + 1), maxDepth + 1))")
            let longLived = Root(m, bottomUp(m, shape, maxDepth))
            for d in stride(from: minDepth, through: maxDepth, by: 2) {
                let iterations = 1 << (maxDepth - d + minDepth)
                var sum = 0
                for _ in 0..<iterations { sum += checkRooted(m, shape, bottomUp(m, shape, d), d) }
                print("\(iterations)\t trees of depth \(d)\t check: \(sum)")
            }
            print("long lived tree of depth \(maxDepth)\t check: \(check(m, shape, longLived.get(m)!, maxDepth))")
        }
    }

    struct Node {
        var left: Ref<Node>?
        var right: Ref<Node>?
        var i: Int
        var j: Int
    }
    static func nodeShape() -> Shape<Node> {
        Shape(layout: GCLayout(of: Node.self, references: [\Node.left, \Node.right]),
              left: RefField(\Node.left), right: RefField(\Node.right))
    }

    /// Top-down: gives `n` two new children, then fills each. `n` is pushed before the safepoint.
    static func populate(_ m: Mutation, _ shape: Shape<Node>, _ d: Int, _ n: Ref<Node>) {
        guard d > 0 else { return }
        let slot = m.push(n)
        if d >= 4 { m.safepoint() }
        let node = m.stackSlot(slot, as: Node.self)!
        m.store(node, shape.left, m.new(shape.layout, as: Node.self))
        m.store(node, shape.right, m.new(shape.layout, as: Node.self))
        populate(m, shape, d - 1, m.load(node, shape.left)!)
        populate(m, shape, d - 1, m.load(m.stackSlot(slot, as: Node.self)!, shape.right)!)
        m.popStack(to: slot)
    }

    /// Bottom-up: children first, the left one on the shadow stack while the right one is built.
    static func makeTree(_ m: Mutation, _ shape: Shape<Node>, _ d: Int) -> Ref<Node> {
        if d >= 4 { m.safepoint() }
        if d <= 0 { return m.new(shape.layout, as: Node.self) }
        let slot = m.push(makeTree(m, shape, d - 1))
        let r = makeTree(m, shape, d - 1)
        let n = m.new(shape.layout, as: Node.self)
        m.store(n, shape.left, m.stackSlot(slot, as: Node.self))
        m.store(n, shape.right, r)
        m.popStack(to: slot)
        return n
    }

    /// Counts nodes, polling for a safepoint like `check`; the caller roots the tree (`countRooted`).
    static func count(_ m: Mutation, _ shape: Shape<Node>, _ n: Ref<Node>?, _ d: Int) -> Int {
        guard let n = n else { return 0 }
        if d >= 4 { m.safepoint() }
        return 1 + count(m, shape, m.load(n, shape.left), d - 1) + count(m, shape, m.load(n, shape.right), d - 1)
    }

    static func countRooted(_ m: Mutation, _ shape: Shape<Node>, _ n: Ref<Node>, _ d: Int) -> Int {
        let slot = m.push(n)
        defer { m.popStack(to: slot) }
        return count(m, shape, n, d)
    }

    static func gcbench() {
        let g = GCBenchShape.self
        let mutator = GC.shared.makeMutator()
        let shape = nodeShape()
        mutator.run { m in
            print("stretch tree of depth \(g.stretchDepth): \(countRooted(m, shape, makeTree(m, shape, g.stretchDepth), g.stretchDepth)) nodes")
            let longLived = Root(m, m.new(shape.layout, as: Node.self))
            populate(m, shape, g.longLivedDepth, longLived.get(m)!)
            let array = Root(m, m.newBytes(g.arraySize * 8))
            let doubles = UnsafeMutableRawPointer(array.get(m)!.bytes).assumingMemoryBound(to: Double.self)
            for i in 0..<(g.arraySize / 2) { doubles[i] = 1.0 / Double(i) }
            for d in stride(from: g.minTree, through: g.maxTree, by: 2) {
                let iters = g.iterations(d)
                var built = 0
                for _ in 0..<iters {
                    let tmp = m.new(shape.layout, as: Node.self)
                    populate(m, shape, d, tmp)
                    // populate popped `tmp` before returning, and nothing since was a safepoint.
                    built += countRooted(m, shape, tmp, d)
                }
                for _ in 0..<iters { built += countRooted(m, shape, makeTree(m, shape, d), d) }
                print("depth \(d): \(iters) top-down and \(iters) bottom-up trees, \(built) nodes")
            }
            if doubles[1000] != 1.0 / 1000 { fputs("gcbench: the array was lost\n", stderr); exit(1) }
            print("long lived tree: \(count(m, shape, longLived.get(m)!, g.longLivedDepth)) nodes")
        }
    }
}
