// gort heapmap: draws a heap dump (GOMALLOC_HEAPDUMP / Heap.heapDump) as an SVG.
import ArgumentParser
import Foundation

struct HeapmapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapmap",
        abstract: "Draw a heap dump's arenas and spans by occupancy (SVG).",
        discussion: """
        Each arena is a 128 x 64 grid, one cell per 8 KiB page. Span pages are coloured by how full the span is \
        (green: nearly empty, red: full); large objects are blue, in every arena they cover; free pages grey. \
        The dump counts each arena's released pages (returned to the OS) but not which ones they are: the \
        arena's caption gives the count, and they are drawn as free pages. \
        Make a dump with `gort run --heapdump heap.json -- PROGRAM`. The dump can be any readable file \
        (a pipe, /dev/stdin, <(zcat heap.json.gz)).
        """
    )

    @Argument(help: "Heap dump JSON file.")
    var dump: String

    @Option(name: .shortAndLong, help: "Output SVG file.")
    var output: String = "heap.svg"

    func run() throws {
        let data = try FileIO.read(dump)
        let heap = try HeapDumpFile(data: data, name: dump)
        do { try heap.svg().write(toFile: output, atomically: true, encoding: .utf8) } catch {
            throw GortError("cannot write \(output): \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        print("wrote \(output): \(heap.arenas.count) arena(s), \(heap.spans.count) span(s)")
    }
}

struct HeapDumpFile {
    struct Arena { var base: UInt64; var freePages: Int; var releasedPages: Int }
    struct Span { var base: UInt64; var npages: Int; var sizeclass: Int; var elemsize: Int; var nelems: Int; var inuse: Int; var state: String }
    var pageSize: UInt64 = 8192
    var arenaBytes: UInt64 = 64 << 20
    var arenas: [Arena] = []
    var spans: [Span] = []
    var stats: [String: UInt64] = [:]

    init(data: Data, name: String) throws {
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let arenas = obj["arenas"] as? [[String: Any]], let spans = obj["spans"] as? [[String: Any]] else {
            throw GortError("\(name) is not a heap dump (expected JSON with \"arenas\" and \"spans\")")
        }
        // Every number must be a non-negative integer, and the geometry sane: a damaged or hand-edited dump
        // gets a one-line error, not a trap in the drawing arithmetic.
        func u(_ d: [String: Any], _ k: String, what: String) throws -> UInt64 {
            guard let v = d[k] else { throw GortError("\(name): \(what) has no \"\(k)\"") }
            guard let n = v as? NSNumber, n.doubleValue >= 0,
                  n.doubleValue == n.doubleValue.rounded(), n.doubleValue < 1.8e19 else {
                throw GortError("\(name): \(what)'s \"\(k)\" is not a non-negative integer")
            }
            return n.uint64Value
        }
        pageSize = obj["pageSize"] == nil ? 8192 : try u(obj, "pageSize", what: "the dump")
        arenaBytes = obj["arenaBytes"] == nil ? 64 << 20 : try u(obj, "arenaBytes", what: "the dump")
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0, arenaBytes >= pageSize * 128, arenaBytes <= 1 << 32,
              arenaBytes % (pageSize * 128) == 0 else {
            throw GortError("\(name): pageSize \(pageSize) and arenaBytes \(arenaBytes) are not a heap's geometry")
        }
        let pagesPerArena = arenaBytes / pageSize
        self.arenas = try arenas.enumerated().map { i, a in
            let what = "arena \(i)"
            let arena = Arena(base: try u(a, "base", what: what), freePages: Int(try u(a, "freePages", what: what)),
                              releasedPages: Int(try u(a, "releasedPages", what: what)))
            guard arena.base % arenaBytes == 0, arena.base <= UInt64.max - arenaBytes,
                  UInt64(arena.freePages) <= pagesPerArena, arena.releasedPages <= arena.freePages else {
                throw GortError("\(name): \(what) is inconsistent (base not arena-aligned, or page counts beyond the arena)")
            }
            return arena
        }
        self.spans = try spans.enumerated().map { i, d in
            let what = "span \(i)"
            let s = Span(base: try u(d, "base", what: what), npages: Int(try u(d, "npages", what: what)),
                         sizeclass: Int(try u(d, "class", what: what)), elemsize: Int(try u(d, "elemsize", what: what)),
                         nelems: Int(try u(d, "nelems", what: what)), inuse: Int(try u(d, "inuse", what: what)),
                         state: d["state"] as? String ?? "?")
            guard s.npages >= 1, UInt64(s.npages) <= UInt64.max / pageSize, s.base % pageSize == 0,
                  s.base <= UInt64.max - UInt64(s.npages) * pageSize, s.inuse <= max(s.nelems, 1) else {
                throw GortError("\(name): \(what) is inconsistent (npages, base or inuse out of range)")
            }
            return s
        }
        for (k, v) in obj["stats"] as? [String: Any] ?? [:] { if let n = v as? NSNumber { stats[k] = n.uint64Value } }
    }

    func svg() -> String {
        let cols = 128, cell = 6, pagesPerArena = Int(arenaBytes / pageSize)
        let rows = pagesPerArena / cols
        let arenaH = rows * cell + 28
        let width = cols * cell + 40 + 260
        let height = 70 + max(1, arenas.count) * arenaH + 20
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="monospace" font-size="12">
        <rect width="100%" height="100%" fill="#fafafa"/>
        <text x="20" y="24" font-size="16">Heap map: \(arenas.count) arena(s), \(spans.count) span(s) in use</text>
        <text x="20" y="44">HeapAlloc \(mib(stats["HeapAlloc"])) · HeapInuse \(mib(stats["HeapInuse"])) · HeapIdle \(mib(stats["HeapIdle"])) · HeapReleased \(mib(stats["HeapReleased"]))</text>

        """
        // Each arena starts grey (free) and gets its share of every span that covers it: a large object can
        // run over several arenas. Released pages are only counted in the dump (the caption), not drawn.
        let covering = spansByArena()
        for (i, a) in arenas.enumerated() {
            let y0 = 70 + i * arenaH
            out += "<text x=\"20\" y=\"\(y0 + 12)\">arena 0x\(String(a.base, radix: 16)): \(a.freePages) free pages (\(a.releasedPages) of them released)</text>\n"
            out += "<rect x=\"20\" y=\"\(y0 + 18)\" width=\"\(cols * cell)\" height=\"\(rows * cell)\" fill=\"#dddddd\"/>\n"
            for s in covering[a.base] ?? [] {
                let first = s.base > a.base ? Int((s.base - a.base) / pageSize) : 0
                let end = min(UInt64(pagesPerArena), (s.base + UInt64(s.npages) * pageSize - a.base) / pageSize)
                out += pageRuns(first..<Int(end), cols: cols, cell: cell, y0: y0 + 18, color: color(s), title: title(s))
            }
        }
        let lx = cols * cell + 40
        out += """
        <g transform="translate(\(lx),80)">
        <text y="0">Legend</text>
        <rect y="10" width="12" height="12" fill="#3cc840"/><text x="18" y="21">span, nearly empty</text>
        <rect y="30" width="12" height="12" fill="#ff3240"/><text x="18" y="41">span, full</text>
        <rect y="50" width="12" height="12" fill="#3b6fd6"/><text x="18" y="61">large object</text>
        <rect y="70" width="12" height="12" fill="#dddddd"/><text x="18" y="81">free page (released or not)</text>
        <text y="110">one cell = one \(pageSize / 1024) KiB page</text>
        </g>
        </svg>

        """
        return out
    }

    /// The spans covering each arena (by arena base), in dump order: a span is listed under every arena it
    /// has a page in. Arenas not in the dump are ignored.
    func spansByArena() -> [UInt64: [Span]] {
        var out: [UInt64: [Span]] = [:]
        for s in spans {
            let last = s.base + UInt64(s.npages) * pageSize - 1
            var a = s.base / arenaBytes * arenaBytes
            while true {
                out[a, default: []].append(s)
                guard last - a >= arenaBytes else { break }  // a <= last: no overflow
                a += arenaBytes
            }
        }
        return out
    }

    /// One rectangle per grid row of the pages `pages` of one arena.
    private func pageRuns(_ pages: Range<Int>, cols: Int, cell: Int, y0: Int, color: String, title: String) -> String {
        var out = ""
        var p = pages.lowerBound
        while p < pages.upperBound {
            let rowEnd = min(pages.upperBound, (p / cols + 1) * cols)
            out += "<rect x=\"\(20 + (p % cols) * cell)\" y=\"\(y0 + (p / cols) * cell)\" width=\"\((rowEnd - p) * cell - 1)\" height=\"\(cell - 1)\" fill=\"\(color)\"><title>\(title)</title></rect>\n"
            p = rowEnd
        }
        return out
    }

    private func color(_ s: Span) -> String {
        if s.state == "large" { return "#3b6fd6" }
        let f = s.nelems == 0 ? 0 : Double(s.inuse) / Double(s.nelems)
        return String(format: "#%02x%02x40", Int(60 + 195 * f), Int(200 - 150 * f))
    }

    private func title(_ s: Span) -> String {
        "class \(s.sizeclass) (\(s.elemsize) B): \(s.inuse)/\(s.nelems) \(s.state), \(s.npages) page(s) at 0x\(String(s.base, radix: 16))"
    }

    private func mib(_ x: UInt64?) -> String { String(format: "%.1f MiB", Double(x ?? 0) / 1048576) }
}
