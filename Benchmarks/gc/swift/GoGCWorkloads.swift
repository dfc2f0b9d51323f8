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
    static let treeLayout = GCLayout(of: Tree.self, references: [\Tree.left, \Tree.right])
    static let tLeft = RefField(\Tree.left), tRight = RefField(\Tree.right)

    static func bottomUp(_ m: Mutation, _ layout: GCLayout, _ d: Int) -> Ref<Tree> {
        if d >= 4 { m.safepoint() }   // the caller's partial node (if any) is on the shadow stack
        let t = m.new(layout, as: Tree.self)
        if d == 0 { return t }
        let slot = m.push(t)
        let l = bottomUp(m, layout, d - 1)
        m.store(m.stackSlot(slot, as: Tree.self)!, tLeft, l)
        let r = bottomUp(m, layout, d - 1)
        let t2 = m.stackSlot(slot, as: Tree.self)!
        m.store(t2, tRight, r)
        m.popStack(to: slot)
        return t2
    }

    static func check(_ m: Mutation, _ t: Ref<Tree>) -> Int {
        guard let l = m.load(t, tLeft), let r = m.load(t, tRight) else { return 1 }
        return 1 + check(m, l) + check(m, r)
    }

    static func binaryTrees(_ n: Int) {
        let minDepth = 4, maxDepth = max(minDepth + 2, n)
        let mutator = GC.shared.makeMutator()
        let layout = treeLayout
        mutator.run { m in
            print("stretch tree of depth \(maxDepth + 1)\t check: \(check(m, bottomUp(m, layout, maxDepth + 1)))")
            let longLived = Root(m, bottomUp(m, layout, maxDepth))
            for d in stride(from: minDepth, through: maxDepth, by: 2) {
                let iterations = 1 << (maxDepth - d + minDepth)
                var sum = 0
                for _ in 0..<iterations { sum += check(m, bottomUp(m, layout, d)) }
                print("\(iterations)\t trees of depth \(d)\t check: \(sum)")
            }
            print("long lived tree of depth \(maxDepth)\t check: \(check(m, longLived.get(m)!))")
        }
    }

    struct Node {
        var left: Ref<Node>?
        var right: Ref<Node>?
        var i: Int
        var j: Int
    }
    static let nodeLayout = GCLayout(of: Node.self, references: [\Node.left, \Node.right])
    static let nLeft = RefField(\Node.left), nRight = RefField(\Node.right)

    /// Top-down: gives `n` two new children, then fills each. `n` is pushed before the safepoint.
    static func populate(_ m: Mutation, _ layout: GCLayout, _ d: Int, _ n: Ref<Node>) {
        guard d > 0 else { return }
        let slot = m.push(n)
        if d >= 4 { m.safepoint() }
        let node = m.stackSlot(slot, as: Node.self)!
        m.store(node, nLeft, m.new(layout, as: Node.self))
        m.store(node, nRight, m.new(layout, as: Node.self))
        populate(m, layout, d - 1, m.load(node, nLeft)!)
        populate(m, layout, d - 1, m.load(m.stackSlot(slot, as: Node.self)!, nRight)!)
        m.popStack(to: slot)
    }

    /// Bottom-up: children first, the left one on the shadow stack while the right one is built.
    static func makeTree(_ m: Mutation, _ layout: GCLayout, _ d: Int) -> Ref<Node> {
        if d >= 4 { m.safepoint() }
        if d <= 0 { return m.new(layout, as: Node.self) }
        let slot = m.push(makeTree(m, layout, d - 1))
        let r = makeTree(m, layout, d - 1)
        let n = m.new(layout, as: Node.self)
        m.store(n, nLeft, m.stackSlot(slot, as: Node.self))
        m.store(n, nRight, r)
        m.popStack(to: slot)
        return n
    }

    static func count(_ m: Mutation, _ n: Ref<Node>?) -> Int {
        guard let n = n else { return 0 }
        return 1 + count(m, m.load(n, nLeft)) + count(m, m.load(n, nRight))
    }

    static func gcbench() {
        let g = GCBenchShape.self
        let mutator = GC.shared.makeMutator()
        let layout = nodeLayout
        mutator.run { m in
            print("stretch tree of depth \(g.stretchDepth): \(count(m, makeTree(m, layout, g.stretchDepth))) nodes")
            let longLived = Root(m, m.new(layout, as: Node.self))
            populate(m, layout, g.longLivedDepth, longLived.get(m)!)
            let array = Root(m, m.newBytes(g.arraySize * 8))
            let doubles = UnsafeMutableRawPointer(array.get(m)!.bytes).assumingMemoryBound(to: Double.self)
            for i in 0..<(g.arraySize / 2) { doubles[i] = 1.0 / Double(i) }
            for d in stride(from: g.minTree, through: g.maxTree, by: 2) {
                let iters = g.iterations(d)
                var built = 0
                for _ in 0..<iters {
                    let tmp = m.new(layout, as: Node.self)
                    populate(m, layout, d, tmp)
                    // populate popped `tmp` before returning, and nothing since was a safepoint.
                    built += count(m, tmp)
                }
                for _ in 0..<iters { built += count(m, makeTree(m, layout, d)) }
                print("depth \(d): \(iters) top-down and \(iters) bottom-up trees, \(built) nodes")
            }
            if doubles[1000] != 1.0 / 1000 { fputs("gcbench: the array was lost\n", stderr); exit(1) }
            print("long lived tree: \(count(m, longLived.get(m)!)) nodes")
        }
    }
}
