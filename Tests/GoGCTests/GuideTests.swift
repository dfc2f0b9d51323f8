// The examples of docs/gc.md, compiled and run, so the guide stays true. Keep the two in step: the code
// between the `guide:` markers is what the guide shows.
import XCTest
import GoGC

// guide: types
/// A binary tree node. Reference fields are `Ref<T>?`; everything else is a scalar the collector ignores.
struct TreeNode {
    var left: Ref<TreeNode>?
    var right: Ref<TreeNode>?
    var value: Int
}

/// The node's layout and fields, resolved once (key paths -> offsets, size -> size class).
enum TreeGC {
    static let layout = GCLayout(of: TreeNode.self, references: [\TreeNode.left, \TreeNode.right])
    static let left = RefField(\TreeNode.left)
    static let right = RefField(\TreeNode.right)
    static let value = ScalarField(\TreeNode.value)
}

/// Allocates a complete tree. Allocation is never a safepoint, so the locals stay valid throughout.
func makeTree(_ m: Mutation, depth: Int) -> Ref<TreeNode> {
    let n = m.new(TreeGC.layout, as: TreeNode.self)
    n[scalar: TreeGC.value] = depth
    if depth > 0 {
        m.store(n, TreeGC.left, makeTree(m, depth: depth - 1))   // reference stores go through the barrier
        m.store(n, TreeGC.right, makeTree(m, depth: depth - 1))
    }
    return n
}

func countNodes(_ m: Mutation, _ n: Ref<TreeNode>?) -> Int {
    guard let n = n else { return 0 }
    return 1 + countNodes(m, m.load(n, TreeGC.left)) + countNodes(m, m.load(n, TreeGC.right))
}
// guide: end

final class GuideTests: XCTestCase {
    func testGuideTreeExample() {
        // guide: main
        let gc = GC()                    // or GC.shared; reads GOGC, GOMEMLIMIT, GODEBUG=gctrace=1
        let mutator = gc.makeMutator()   // one per thread that touches the heap
        let longLived: Root<TreeNode> = mutator.run { m in
            Root(m, makeTree(m, depth: 16))   // a Root keeps it alive across safepoints and scopes
        }
        var total = 0
        mutator.run { m in
            for _ in 0..<100 {
                let t = makeTree(m, depth: 10)   // garbage once the loop moves on
                total += countNodes(m, t)
                m.safepoint()                    // the collector may stop the world here: `t` is dead now
            }
            total += countNodes(m, longLived.get(m))
        }
        // guide: end
        XCTAssertEqual(total, 100 * 2047 + 131071)
        gc.collect()
        XCTAssertGreaterThanOrEqual(gc.stats.numGC, 1)
        XCTAssertGreaterThanOrEqual(gc.stats.heapMarked, 131071 * UInt64(MemoryLayout<TreeNode>.size))
        withExtendedLifetime(longLived) {}
    }

    func testGuideShadowStackExample() {
        let gc = GC(config: testConfig(concurrent: true))
        let mutator = gc.makeMutator()
        var kept = 0
        mutator.run { m in
            // guide: stack
            let base = m.stackDepth
            let slot = m.push(makeTree(m, depth: 8))   // survives the safepoints below
            for _ in 0..<50 {
                _ = makeTree(m, depth: 8)
                m.safepoint()
            }
            kept = countNodes(m, m.stackSlot(slot, as: TreeNode.self))
            m.popStack(to: base)
            // guide: end
            m.collect()
        }
        XCTAssertEqual(kept, 511)
        XCTAssertEqual(gc.stats.checkmarkMisses, 0)
    }

    func testGuideWeakAndFinalizerExample() {
        let gc = GC(config: testConfig(concurrent: false))
        let mutator = gc.makeMutator()
        let finalized = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        finalized.initialize(to: 0)
        defer { finalized.deallocate() }
        let addr = UInt(bitPattern: finalized)
        // guide: weak
        let weak: Weak<TreeNode> = mutator.run { m in
            let t = makeTree(m, depth: 4)
            m.setFinalizer(t) { m, node in   // runs once, on the finalizer thread, inside a scope
                UnsafeMutablePointer<Int>(bitPattern: addr)!.pointee = node[scalar: TreeGC.value]
            }
            return Weak(m, t)   // does not keep `t` alive
        }
        gc.collect()   // `t` is unreachable: the weak reference is cleared, the finalizer queued
        mutator.run { m in precondition(weak.get(m) == nil) }
        // guide: end
        let deadline = Date().addingTimeInterval(10)
        while gc.stats.finalizersRun == 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(gc.stats.finalizersRun, 1)
        XCTAssertEqual(finalized.pointee, 4)
        XCTAssertEqual(gc.stats.weakCleared, 1)
    }

    /// Every block between `// guide: <name>` and `// guide: end` above appears, dedented, in docs/gc.md.
    func testGuideShowsTheseExamples() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/gc.md"), encoding: .utf8)
        let lines = try String(contentsOf: here, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var blocks: [[Substring]] = []
        var current: [Substring]? = nil
        for line in lines {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t == "// guide: end" { blocks.append(current ?? []); current = nil; continue }
            if t.hasPrefix("// guide: ") { current = []; continue }
            current?.append(line)
        }
        XCTAssertEqual(blocks.count, 4)
        for block in blocks {
            let indent = block.filter { !$0.isEmpty }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
            let text = block.map { $0.isEmpty ? "" : String($0.dropFirst(indent)) }.joined(separator: "\n")
            XCTAssertTrue(doc.contains(text), "docs/gc.md lacks:\n\(text)")
        }
    }
}
