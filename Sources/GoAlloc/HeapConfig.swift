// Options, read once when a heap is created. Go: the GODEBUG table (runtime/runtime1.go, dbgvars).
//
//   GODEBUG=madvdontneed=1    release free pages with MADV_DONTNEED (default, as Go 1.16+); 0: MADV_FREE
//   GODEBUG=scavtrace=1       one line per background scavenger pass that released memory (Go's format)
//   GODEBUG=allocchecks=1     check heap invariants on every slow path (refill, span alloc/free)
//   GODEBUG=bgscavenge=0      no background scavenger thread (releaseMemory() still works)
//   GODEBUG=hugepages=1       ask for transparent huge pages (MADV_HUGEPAGE) on new arenas; off by default:
//                             with THP in "madvise" mode each touched arena costs a 2 MiB page of RSS
//   GODEBUG=prefault=0        the background thread does not fault in pages ahead of a growing heap
//                             (Prefault.swift)
//   GODEBUG=retainspans=0     caches hand each span they ran through back to MCentral, as Go does, instead of
//                             retaining it (RetainedSpans.swift); for comparisons. GC heaps never retain.
//   GOMEMLIMIT=64MiB          soft limit on the heap's retained memory (Go's syntax: bytes with an optional B,
//                             KiB, MiB, GiB or TiB suffix; "off" for none). Over it, span allocation and the
//                             background scavenger release free pages, whatever their age (Scavenger.swift).
// Parsing never allocates: it walks getenv's C string.

/// Heap options. Go: dbgvars entries that concern the allocator.
public struct HeapConfig: Sendable {
    /// MADV_DONTNEED (true) or MADV_FREE (false) when returning pages. Go: debug.madvdontneed.
    public var madvDontNeed = true
    /// Start the background scavenger (and sweeper) thread once the heap has some size.
    public var backgroundScavenger = true
    /// How often the background scavenger runs, in milliseconds.
    public var scavengePeriodMs = 100
    /// Print a line per scavenger pass that released memory. Go: debug.scavtrace.
    public var scavTrace = false
    /// Check invariants on slow paths. Costs nothing when off: one predictable branch on slow paths only.
    public var checkInvariants = false
    /// MADV_HUGEPAGE on new arenas.
    public var hugePages = false
    /// The background thread faults in the pages a growing heap hands out next (Prefault.swift).
    public var prefault = true
    /// A big heap that shrinks to half its peak releases its free pages at once (Scavenger.swift). Turned off
    /// for garbage-collected heaps, which shrink and regrow every cycle.
    public var bulkRelease = true
    /// MCaches keep the spans they filled (RetainedSpans.swift). Turned off for garbage-collected heaps.
    public var retainSpans = true
    /// Spans of small size classes (objects up to 1 KiB) get at least this many pages (1: the size class table's
    /// own, Go's and rule 5's). GoGC asks for 8: a garbage-collected heap of small objects then keeps one MSpan
    /// (192 bytes) per 64 KiB instead of per 8 KiB (binary-trees at a 256 MiB heap: about 5 MiB of span records
    /// down to under 1), and sweeps and refills a span an eighth as often.
    /// At most 8 (MHeap.bitsAlloc holds bitmaps of up to 8,192 objects).
    public var minSmallSpanPages = 1
    /// Go: GOMEMLIMIT (debug.SetMemoryLimit). A soft limit, in bytes, on the heap pages mapped and not released
    /// to the OS (MemStats.heapSys - heapReleased: in use, in caches and free but resident). Above it, each span
    /// allocation releases free pages down to the limit, and the background scavenger down to 95 % of it, so
    /// free memory does not wait for its age (Scavenger.swift). Memory in use is never released: the limit is
    /// soft. `UInt64.max`: no limit. Metadata (span records, bitmaps, caches) is not counted.
    public var memoryLimit: UInt64 = .max

    public init() {}

    /// The defaults, overridden by GODEBUG.
    public static func fromEnvironment() -> HeapConfig {
        var c = HeapConfig()
        if let limit = getenvRaw("GOMEMLIMIT\0") {
            if let v = parseMemoryLimit(limit) {
                c.memoryLimit = v
            } else {
                // Go throws at start-up; a preloaded malloc would take down every program run with it (shells,
                // tools), so it warns once per heap and runs without a limit.
                let m: StaticString = "gomalloc: malformed GOMEMLIMIT ignored (want bytes with B, KiB, MiB, GiB or TiB, or off)\n"
                writeAll(2, m.utf8Start, m.utf8CodeUnitCount)
            }
        }
        guard let env = getenvRaw("GODEBUG\0") else { return c }
        GODEBUG.forEach(env) { key, value in
            switch key {
            case GODEBUG.key("madvdontneed"): c.madvDontNeed = value != 0
            case GODEBUG.key("scavtrace"): c.scavTrace = value != 0
            case GODEBUG.key("allocchecks"): c.checkInvariants = value != 0
            case GODEBUG.key("bgscavenge"): c.backgroundScavenger = value != 0
            case GODEBUG.key("hugepages"): c.hugePages = value != 0
            case GODEBUG.key("prefault"): c.prefault = value != 0
            case GODEBUG.key("retainspans"): c.retainSpans = value != 0
            default: break
            }
        }
        return c
    }
}

/// GODEBUG parsing: `name=value,name=value`. Keys are compared as 64-bit hashes so nothing is allocated.
public enum GODEBUG {
    /// FNV-1a of a key.
    public static func key(_ s: StaticString) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        s.withUTF8Buffer { for b in $0 { h = (h ^ UInt64(b)) &* 0x100000001b3 } }
        return h
    }

    /// Go's runtime.atoi32, which GOGC, GOMAXPROCS and GODEBUG values go through: an optional `-`, then
    /// decimal digits only (no `+`, no spaces), within Int32. nil otherwise.
    public static func atoi32<S: StringProtocol>(_ s: S) -> Int32? { atoi32(bytes: s.utf8) }

    /// atoi32 over bytes (a C string's, for forEach: no allocation).
    static func atoi32<C: Collection>(bytes: C) -> Int32? where C.Element == UInt8 {
        var u = bytes[...]
        let negative = u.first == UInt8(ascii: "-")
        if negative { u = u.dropFirst() }
        if u.isEmpty { return nil }
        var n: Int64 = 0
        for b in u {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int64(b - UInt8(ascii: "0"))
            if n > Int64(Int32.max) + 1 { return nil }
        }
        if negative { n = -n }
        return n > Int64(Int32.max) ? nil : Int32(n)
    }

    /// Calls body(hash(key), value) for each `key=value` entry of a C string, as Go's parsedebugvars reads
    /// GODEBUG: an entry without `=` is skipped, and so is one whose value is not a whole int32 in decimal
    /// (runtime.atoi32: an optional `-`, digits only, no overflow), so it leaves the setting as it was.
    /// Later entries win. Does not allocate.
    public static func forEach(_ s: UnsafePointer<CChar>, _ body: (UInt64, Int) -> Void) {
        var i = 0
        while true {
            var h: UInt64 = 0xcbf29ce484222325
            while s[i] != 0 && s[i] != 61 /* = */ && s[i] != 44 /* , */ {
                h = (h ^ UInt64(UInt8(bitPattern: s[i]))) &* 0x100000001b3
                i += 1
            }
            if s[i] == 61 {
                i += 1
                let start = i
                while s[i] != 0 && s[i] != 44 { i += 1 }
                let value = UnsafeRawPointer(s + start).withMemoryRebound(to: UInt8.self, capacity: i - start) {
                    atoi32(bytes: UnsafeBufferPointer(start: $0, count: i - start))
                }
                if let v = value { body(h, Int(v)) }
            }
            if s[i] == 0 { return }
            i += 1
        }
    }
}

extension HeapConfig {
    /// Go's GOMEMLIMIT syntax (runtime parseByteCount): `^[0-9]+(([KMGT]i)?B)?$`, or "off" (or empty) for no limit,
    /// which is `UInt64.max`. nil when malformed or above Int64.max. Does not allocate.
    public static func parseMemoryLimit(_ s: UnsafePointer<CChar>) -> UInt64? {
        @inline(__always) func at(_ i: Int) -> UInt8 { UInt8(bitPattern: s[i]) }
        if at(0) == 0 || (at(0) == 111 && at(1) == 102 && at(2) == 102 && at(3) == 0) { return .max }  // "", "off"
        var i = 0
        var n: UInt64 = 0
        while at(i) >= 48 && at(i) <= 57 {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(at(i) - 48))
            if o1 || o2 { return nil }
            n = a
            i += 1
        }
        if i == 0 { return nil }
        var shift: UInt64 = 0
        switch at(i) {
        case 0: break
        case 66: shift = 0; i += 1  // B
        case 75, 77, 71, 84:  // K M G T, then "iB"
            shift = at(i) == 75 ? 10 : at(i) == 77 ? 20 : at(i) == 71 ? 30 : 40
            if at(i + 1) != 105 || at(i + 2) != 66 { return nil }
            i += 3
        default: return nil
        }
        if at(i) != 0 { return nil }
        if shift > 0 && n > UInt64(Int64.max) >> shift { return nil }
        n <<= shift
        return n > UInt64(Int64.max) ? nil : n
    }
}
