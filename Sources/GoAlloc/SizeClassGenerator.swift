// The size-class generator. Go: runtime/mksizeclasses.go (our own implementation of the same rules).
//
// Rules, in order:
//  1. Sizes step by 8, then 16 from 32, then size/8 from 128, then 256 from 2048 (alignment grows with size).
//  2. Each size gets the fewest pages such that the span's tail waste is at most 1/8 of the span.
//  3. A size that fits as many objects in as many pages as the previous class replaces it (same span, bigger objects).
//  4. Each class then grows to the largest size (a multiple of 128) that still fits the same object count.
//  5. Not Go: a class of up to `minObjectsMaxSize` bytes gets more pages until its span holds at least
//     `minObjectsPerSpan` objects (tail waste still at most 1/8). Go's rule 2 gives the classes from 576 B to 4 KiB
//     spans of 2-15 objects; with explicit free, a cache refills once per span's worth of free slots, and a
//     working set spread over such spans refilled every one to three mallocs (threads-1: a refill per 10 mallocs,
//     a third of the allocator's instructions). 16 objects (spans of 16-64 KiB, mimalloc's small pages are 64 KiB)
//     cut the allocator's instructions there by a fifth and `batch`'s CPU by a third at the same peak RSS
//     (BENCHMARKS.md, session 4). The sizes, and so every size -> class answer, stay Go's.
// The sizes must be Go's 68 classes. `SizeClasses.swift` is this generator's output; a test regenerates it and
// compares the text, checks the waste bounds and verifies every division magic by brute force.

public struct SizeClassRow: Equatable, Sendable {
    public var size: Int
    public var npages: Int
    public var nelems: Int { size == 0 ? 0 : npages * pageSize / size }
    /// Go: divMul. `offset * divMul >> 32 == offset / size` for every offset inside a span of this class.
    public var divMul: UInt32 { size == 0 ? 0 : UInt32(truncatingIfNeeded: (UInt64(UInt32.max) / UInt64(size)) &+ 1) }
    /// Bytes left over at the end of the span.
    public var tailWaste: Int { size == 0 ? 0 : npages * pageSize % size }
    /// Worst-case waste: the smallest object of this class (previous class size + 1) in every slot, plus the tail.
    /// In hundredths of a percent (basis points), to stay off floating point.
    public func maxWasteBasisPoints(previousSize: Int) -> Int {
        let span = npages * pageSize
        return (span - nelems * (previousSize + 1)) * 10000 / span
    }
}

public enum SizeClassGenerator {
    /// Rule 5: the fewest objects a span of a class up to `minObjectsMaxSize` bytes holds.
    public static let minObjectsPerSpan = 16
    public static let minObjectsMaxSize = 4096

    public static func makeClasses() -> [SizeClassRow] {
        var classes = [SizeClassRow(size: 0, npages: 0)]
        var align = 8
        var size = align
        while size <= maxSmallSize {
            if size & (size - 1) == 0 {
                if size >= 2048 { align = 256 } else if size >= 128 { align = size / 8 } else if size >= 32 { align = 16 }
            }
            var allocSize = pageSize
            while allocSize % size > allocSize / 8 { allocSize += pageSize }
            let npages = allocSize / pageSize
            if classes.count > 1, let last = classes.last, last.npages == npages,
               allocSize / size == allocSize / last.size {
                classes[classes.count - 1].size = size
            } else {
                classes.append(SizeClassRow(size: size, npages: npages))
            }
            size += align
        }
        for i in 1..<classes.count {
            let spanBytes = classes[i].npages * pageSize
            let grown = (spanBytes / (spanBytes / classes[i].size)) & ~(largeSizeDiv - 1)
            if grown > classes[i].size { classes[i].size = grown }
        }
        for i in 1..<classes.count where classes[i].size <= minObjectsMaxSize {
            let size = classes[i].size
            var n = classes[i].npages
            while n * pageSize / size < minObjectsPerSpan || (n * pageSize % size) * 8 > n * pageSize { n += 1 }
            classes[i].npages = n
        }
        return classes
    }

    /// The smallest class whose size is at least `size`, with `minAlign`-aligned objects
    /// (objects sit at span base + i*size and spans are page-aligned, so a class is aligned to `a` iff size % a == 0).
    static func classFor(_ size: Int, _ classes: [SizeClassRow], minAlign: Int) -> Int {
        for c in 1..<classes.count where classes[c].size >= size && classes[c].size % minAlign == 0 { return c }
        return 0
    }

    /// Renders `SizeClasses.swift`.
    public static func render() -> String {
        let classes = makeClasses()
        func list<T>(_ xs: [T]) -> String {
            var out = "", line = "    "
            for (i, x) in xs.enumerated() {
                let item = "\(x)" + (i == xs.count - 1 ? "" : ", ")
                if line.count + item.count > 116 { out += line.trimmingTrailingSpace() + "\n"; line = "    " }
                line += item
            }
            return out + line
        }
        func table(_ name: String, _ type: String, _ xs: [Int], _ doc: String) -> String {
            "/// \(doc)\nnonisolated(unsafe) var \(name): (\(Array(repeating: type, count: xs.count).joined(separator: ", "))) = (\n\(list(xs))\n)\n"
        }
        // size -> class, for sizes 0...1024 in steps of 8, and 1024...32768 in steps of 128.
        let small = (0...(smallSizeMax / smallSizeDiv)).map { classFor($0 * smallSizeDiv, classes, minAlign: 1) }
        let large = (0...((maxSmallSize - smallSizeMax) / largeSizeDiv)).map {
            classFor(smallSizeMax + $0 * largeSizeDiv, classes, minAlign: 1)
        }
        // C's malloc must return 16-byte-aligned memory for requests of 16 bytes or more: skip the 24-byte class.
        let mallocSmall = (0...(smallSizeMax / smallSizeDiv)).map {
            classFor($0 * smallSizeDiv, classes, minAlign: $0 * smallSizeDiv >= 16 ? 16 : 1)
        }
        var out = """
        // Code generated by SizeClassGenerator.render(); DO NOT EDIT.
        // Regenerate: GORT_WRITE_SIZECLASSES=1 swift test --filter SizeClassTests

        // class  bytes/obj  bytes/span  objects  tail waste  max waste

        """
        for c in 1..<classes.count {
            let r = classes[c]
            let bp = r.maxWasteBasisPoints(previousSize: classes[c - 1].size)
            let w = "\(bp / 100)." + (bp % 100 < 10 ? "0" : "") + "\(bp % 100)"
            out += "// \(pad(c, 5)) \(pad(r.size, 10)) \(pad(r.npages * pageSize, 11)) \(pad(r.nelems, 8)) \(pad(r.tailWaste, 11)) \(pad(w, 9))%\n"
        }
        out += "\n// These tables are `var` only so that Swift places them in static memory with no lazy initializer\n"
        out += "// (a global `let` tuple is copied to the stack on each access). They are never written.\n\n"
        out += table("classToSize", "UInt16", classes.map(\.size), "Go: class_to_size. Object size of each size class.")
        out += table("classToNPages", "UInt8", classes.map(\.npages), "Go: class_to_allocnpages. Pages per span.")
        out += table("classToNElems", "UInt16", classes.map(\.nelems), "Objects per span.")
        out += table("classToDivMagic", "UInt32", classes.map { Int($0.divMul) }, "Go: class_to_divmagic.")
        out += table("sizeToClass8", "UInt8", small, "Go: size_to_class8. Index (size + 7) >> 3, size <= 1024.")
        out += table("sizeToClass128", "UInt8", large, "Go: size_to_class128. Index (size - 1024 + 127) >> 7.")
        out += table("mallocSizeToClass8", "UInt8", mallocSmall,
                     "size_to_class8 for C's malloc: 16-byte alignment from 16 bytes up (no 24-byte class).")
        return out
    }

    /// Renders `Sources/CGoRuntime/malloc_class.c`: C's malloc size -> noscan span class table, one byte per byte
    /// of size 0...maxSmallSize, as one GNU range designator per class (read-only data, shared by every process
    /// that maps the library: nothing to fill at start-up).
    public static func renderMallocClassC() -> String {
        let classes = makeClasses()
        var out = """
        // Code generated by SizeClassGenerator.renderMallocClassC(); DO NOT EDIT.
        // Regenerate: GORT_WRITE_SIZECLASSES=1 swift test --filter SizeClassTests
        //
        // gort_malloc_class[size] for size 0...32768: the noscan span class (sizeclass << 1 | 1) C's malloc uses, the
        // smallest size class that fits, 16-byte aligned from 16 bytes up. Data only (CGoRuntime.h).
        #include "CGoRuntime.h"

        const unsigned char gort_malloc_class[GORT_MALLOC_CLASS_BYTES] = {

        """
        var start = 0
        var current = -1
        func flush(_ end: Int) {
            out += "    [\(start) ... \(end)] = \(current << 1 | 1),\n"
        }
        for size in 0...maxSmallSize {
            let n = max(size, 1)
            let c = classFor(n, classes, minAlign: n >= 16 ? 16 : 1)
            if c != current {
                if current >= 0 { flush(size - 1) }
                start = size
                current = c
            }
        }
        flush(maxSmallSize)
        return out + "};\n"
    }

    private static func pad(_ x: some CustomStringConvertible, _ n: Int) -> String {
        let s = "\(x)"
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }
}

private extension String {
    func trimmingTrailingSpace() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
