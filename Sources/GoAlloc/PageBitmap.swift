// Bit-run operations on page bitmaps (one bit per page, 1 = free). Go: pallocBits (mpallocbits.go).
// Used by the page allocator under MHeap.lock; runs are found by skipping whole words and counting zeros/ones,
// so a search costs O(words + runs), never O(pages).

enum PageBitmap {
    /// Calls `body(wordIndex, mask)` for each word overlapped by bits [start, start+n).
    @inline(__always)
    static func forEachWord(_ start: Int, _ n: Int, _ body: (Int, UInt64) -> Void) {
        var i = start
        let end = start + n
        while i < end {
            let w = i >> 6
            let lo = i & 63
            let hi = min(64, end - (w << 6))
            let mask: UInt64 = (hi - lo == 64) ? ~0 : ((UInt64(1) << UInt64(hi - lo)) - 1) << UInt64(lo)
            body(w, mask)
            i = (w + 1) << 6
        }
    }

    static func set(_ bits: UnsafeMutablePointer<UInt64>, _ start: Int, _ n: Int) {
        forEachWord(start, n) { w, m in bits[w] |= m }
    }
    static func clear(_ bits: UnsafeMutablePointer<UInt64>, _ start: Int, _ n: Int) {
        forEachWord(start, n) { w, m in bits[w] &= ~m }
    }
    static func count(_ bits: UnsafeMutablePointer<UInt64>, _ start: Int, _ n: Int) -> Int {
        var c = 0
        forEachWord(start, n) { w, m in c += (bits[w] & m).nonzeroBitCount }
        return c
    }

    /// Calls `body(start, length)` for each maximal run of set bits in `bits` (pageWordsPerArena words), from
    /// word `fromWord` on (callers pass a word below which no bit is set).
    static func forEachRun(_ bits: UnsafeMutablePointer<UInt64>, fromWord: Int = 0, _ body: (Int, Int) -> Void) {
        _ = firstRun(bits, fromWord: fromWord) { start, len in body(start, len); return false }
    }

    /// Like forEachRun, but stops at the first run for which `stop(start, length)` is true and returns its
    /// start; nil if none.
    @inline(__always)
    static func firstRun(_ bits: UnsafeMutablePointer<UInt64>, fromWord: Int = 0,
                         _ stop: (Int, Int) -> Bool) -> Int? {
        var runStart = -1
        for w in fromWord..<pageWordsPerArena {
            let x = bits[w]
            if x == ~0 {
                if runStart < 0 { runStart = w << 6 }
                continue
            }
            if x == 0 {
                if runStart >= 0 {
                    if stop(runStart, (w << 6) - runStart) { return runStart }
                    runStart = -1
                }
                continue
            }
            var pos = 0
            while pos < 64 {
                let rest = x >> UInt64(pos)
                if rest & 1 != 0 {
                    let ones = (~rest).trailingZeroBitCount  // rest has a 0 above (x != ~0 shifted in zeros)
                    let len = min(ones, 64 - pos)
                    if runStart < 0 { runStart = (w << 6) + pos }
                    pos += len
                    if pos < 64 {
                        if stop(runStart, (w << 6) + pos - runStart) { return runStart }
                        runStart = -1
                    }
                } else {
                    if runStart >= 0 {
                        if stop(runStart, (w << 6) + pos - runStart) { return runStart }
                        runStart = -1
                    }
                    if rest == 0 { break }
                    pos += rest.trailingZeroBitCount
                }
            }
        }
        if runStart >= 0 && stop(runStart, pagesPerArena - runStart) { return runStart }
        return nil
    }

    /// First-fit for a run of `n` (2...64) set bits, from word `fromWord` on, a few operations per word instead
    /// of one step per run: a run either continues the set bits at the top of the previous word (`carry`) into
    /// the bottom of this one, or lies inside this word, where `x & x>>1 & x>>2 ...` (built by doubling) keeps a
    /// bit exactly where n set bits start. (Spans of 2-8 pages, the size classes' rule 5, made the run-by-run
    /// walk 11 % of `batch`.)
    static func firstRunOfAtMost64(_ bits: UnsafeMutablePointer<UInt64>, _ n: Int, fromWord: Int) -> Int? {
        var carry = 0
        for w in fromWord..<pageWordsPerArena {
            let x = bits[w]
            if x == 0 { carry = 0; continue }
            if carry + (~x).trailingZeroBitCount >= n { return (w << 6) - carry }  // x == ~0 always ends here
            var y = x
            var k = 1
            while k < n {
                let step = min(k, n - k)
                y &= y >> UInt64(step)
                k += step
            }
            if y != 0 { return (w << 6) + y.trailingZeroBitCount }
            carry = (~x).leadingZeroBitCount
        }
        return nil
    }

    static func longestRun(_ bits: UnsafeMutablePointer<UInt64>) -> Int {
        var best = 0
        forEachRun(bits) { _, n in best = max(best, n) }
        return best
    }

    /// Length of the run of set bits containing [first, first+n), which must be set. Scans outward a word at a
    /// time.
    /// Scans at most `maxWords` words on each side; a run that reaches further is reported as the whole arena
    /// (an upper bound, which is all HeapArena.maxRun needs).
    static func runContaining(_ bits: UnsafeMutablePointer<UInt64>, _ first: Int, _ n: Int, maxWords: Int = 4) -> Int {
        var lo = first
        var words = 0
        while lo > 0 {
            words += 1
            if words > maxWords { return pagesPerArena }
            let b = (lo - 1) & 63
            let x = bits[(lo - 1) >> 6] << UInt64(63 - b)   // bit b moves to bit 63; zeros shift in below
            let ones = (~x).leadingZeroBitCount              // set bits from b downward, at most b + 1
            lo -= ones
            if ones < b + 1 { break }
        }
        var hi = first + n
        words = 0
        while hi < pagesPerArena {
            words += 1
            if words > maxWords { return pagesPerArena }
            let b = hi & 63
            let x = bits[hi >> 6] >> UInt64(b)               // zeros shift in above
            let ones = (~x).trailingZeroBitCount             // set bits from b upward, at most 64 - b
            hi += ones
            if ones < 64 - b { break }
        }
        return hi - lo
    }

    /// First-fit: the lowest page index `i` with `i % align == 0` such that pages [i, i+n) are all free.
    /// `fromPage`: no page below it is free (HeapArena.searchStart), so the scan starts at its word. Stops at the
    /// first fit; one page is a find-first-set over words.
    static func findRun(_ bits: UnsafeMutablePointer<UInt64>, _ n: Int, align: Int, fromPage: Int = 0) -> Int? {
        if n == 1 && align == 1 {
            for w in (fromPage >> 6)..<pageWordsPerArena where bits[w] != 0 {
                return (w << 6) + bits[w].trailingZeroBitCount
            }
            return nil
        }
        if align == 1 && n <= 64 { return firstRunOfAtMost64(bits, n, fromWord: fromPage >> 6) }
        return firstRun(bits, fromWord: fromPage >> 6) { start, len in
            let aligned = (start + align - 1) / align * align
            return aligned + n <= start + len
        }.map { ($0 + align - 1) / align * align }
    }
}
