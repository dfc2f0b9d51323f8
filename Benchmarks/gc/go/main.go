// GC benchmarks in Go, for `gort bench gc`: bench-gc-go binary-trees DEPTH | gcbench.
// Single-threaded code like the other variants (Go's collector still uses its background workers).
// GC counts and pauses come from GODEBUG=gctrace=1, which gort sets and parses.
package main

import (
	"fmt"
	"os"
	"strconv"
)

// ---- binary-trees (the Computer Language Benchmarks Game program, single-threaded) ----

type Tree struct{ left, right *Tree }

func bottomUp(d int) *Tree {
	t := &Tree{}
	if d > 0 {
		t.left = bottomUp(d - 1)
		t.right = bottomUp(d - 1)
	}
	return t
}

func (t *Tree) check() int {
	if t.left == nil {
		return 1
	}
	return 1 + t.left.check() + t.right.check()
}

func binaryTrees(n int) {
	minDepth, maxDepth := 4, n
	if maxDepth < minDepth+2 {
		maxDepth = minDepth + 2
	}
	fmt.Printf("stretch tree of depth %d\t check: %d\n", maxDepth+1, bottomUp(maxDepth+1).check())
	longLived := bottomUp(maxDepth)
	for d := minDepth; d <= maxDepth; d += 2 {
		iterations, sum := 1<<(maxDepth-d+minDepth), 0
		for i := 0; i < iterations; i++ {
			sum += bottomUp(d).check()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, d, sum)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, longLived.check())
}

// ---- GCBench (Hans Boehm's allocation benchmark: trees built top-down and bottom-up) ----

type Node struct {
	left, right *Node
	i, j        int
}

const (
	stretchDepth   = 18
	longLivedDepth = 16
	arraySize      = 500000
	minTree        = 4
	maxTree        = 16
)

func treeSize(d int) int      { return (1 << (d + 1)) - 1 }
func iterationsFor(d int) int { return 2 * treeSize(stretchDepth) / treeSize(d) }

func populate(d int, n *Node) {
	if d <= 0 {
		return
	}
	n.left, n.right = &Node{}, &Node{}
	populate(d-1, n.left)
	populate(d-1, n.right)
}

func makeTree(d int) *Node {
	if d <= 0 {
		return &Node{}
	}
	return &Node{left: makeTree(d - 1), right: makeTree(d - 1)}
}

func (n *Node) count() int {
	if n == nil {
		return 0
	}
	return 1 + n.left.count() + n.right.count()
}

func gcbench() {
	fmt.Printf("stretch tree of depth %d: %d nodes\n", stretchDepth, makeTree(stretchDepth).count())
	longLived := &Node{}
	populate(longLivedDepth, longLived)
	array := make([]float64, arraySize)
	for i := 0; i < arraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	for d := minTree; d <= maxTree; d += 2 {
		iters, built := iterationsFor(d), 0
		for i := 0; i < iters; i++ {
			tmp := &Node{}
			populate(d, tmp)
			built += tmp.count()
		}
		for i := 0; i < iters; i++ {
			built += makeTree(d).count()
		}
		fmt.Printf("depth %d: %d top-down and %d bottom-up trees, %d nodes\n", d, iters, iters, built)
	}
	if array[1000] != 1.0/1000 {
		fmt.Fprintln(os.Stderr, "gcbench: the array was lost")
		os.Exit(1)
	}
	fmt.Printf("long lived tree: %d nodes\n", longLived.count())
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "binary-trees" {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad depth:", os.Args[2])
			os.Exit(2)
		}
		binaryTrees(n)
	} else if len(os.Args) >= 2 && os.Args[1] == "gcbench" {
		gcbench()
	} else {
		fmt.Fprintln(os.Stderr, "usage: bench-gc-go binary-trees DEPTH | gcbench")
		os.Exit(2)
	}
}
