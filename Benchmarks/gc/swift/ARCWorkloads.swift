// The GC workloads with Swift classes under ARC (reference counting, no tracing collector).
#if canImport(Glibc)
import Glibc
#endif
enum ARCWorkloads {
    final class Tree {
        var left: Tree?
        var right: Tree?
        init(_ l: Tree?, _ r: Tree?) { left = l; right = r }
    }

    static func bottomUp(_ d: Int) -> Tree { d > 0 ? Tree(bottomUp(d - 1), bottomUp(d - 1)) : Tree(nil, nil) }

    static func check(_ t: Tree) -> Int {
        guard let l = t.left, let r = t.right else { return 1 }
        return 1 + check(l) + check(r)
    }

    static func binaryTrees(_ n: Int) {
        let minDepth = 4, maxDepth = max(minDepth + 2, n)
        print("stretch tree of depth \(maxDepth + 1)\t check: \(check(bottomUp(maxDepth + 1)))")
        let longLived = bottomUp(maxDepth)
        for d in stride(from: minDepth, through: maxDepth, by: 2) {
            let iterations = 1 << (maxDepth - d + minDepth)
            var sum = 0
            for _ in 0..<iterations { sum += check(bottomUp(d)) }
            print("\(iterations)\t trees of depth \(d)\t check: \(sum)")
        }
        print("long lived tree of depth \(maxDepth)\t check: \(check(longLived))")
    }

    final class Node {
        var left: Node?
        var right: Node?
        var i = 0, j = 0
        init(_ l: Node? = nil, _ r: Node? = nil) { left = l; right = r }
    }

    static func populate(_ d: Int, _ n: Node) {
        guard d > 0 else { return }
        let l = Node(), r = Node()
        n.left = l
        n.right = r
        populate(d - 1, l)
        populate(d - 1, r)
    }

    static func makeTree(_ d: Int) -> Node { d <= 0 ? Node() : Node(makeTree(d - 1), makeTree(d - 1)) }

    static func count(_ n: Node?) -> Int {
        guard let n = n else { return 0 }
        return 1 + count(n.left) + count(n.right)
    }

    static func gcbench() {
        let g = GCBenchShape.self
        print("stretch tree of depth \(g.stretchDepth): \(count(makeTree(g.stretchDepth))) nodes")
        let longLived = Node()
        populate(g.longLivedDepth, longLived)
        var array = [Double](repeating: 0, count: g.arraySize)
        for i in 0..<(g.arraySize / 2) { array[i] = 1.0 / Double(i) }
        for d in stride(from: g.minTree, through: g.maxTree, by: 2) {
            let iters = g.iterations(d)
            var built = 0
            for _ in 0..<iters {
                let tmp = Node()
                populate(d, tmp)
                built += count(tmp)
            }
            for _ in 0..<iters { built += count(makeTree(d)) }
            print("depth \(d): \(iters) top-down and \(iters) bottom-up trees, \(built) nodes")
        }
        if array[1000] != 1.0 / 1000 { fputs("gcbench: the array was lost\n", stderr); exit(1) }
        print("long lived tree: \(count(longLived)) nodes")
    }
}

/// GCBench's constants (Hans Boehm's benchmark), shared by both Swift variants.
enum GCBenchShape {
    static let stretchDepth = 18, longLivedDepth = 16, arraySize = 500_000, minTree = 4, maxTree = 16
    static func treeSize(_ d: Int) -> Int { (1 << (d + 1)) - 1 }
    static func iterations(_ d: Int) -> Int { 2 * treeSize(stretchDepth) / treeSize(d) }
}
