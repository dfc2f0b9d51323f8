import CGoRuntime
import Glibc

// Go: runtime/trace (trace.go), much reduced. A scheduler created with `trace: true` records, per M, what ran
// and when: each job (which P, which G), each park of the M, each `blocking { }` region, each steal. The
// recording is read out as Chrome trace-event JSON (one track per M; open it in Perfetto or chrome://tracing),
// by `Scheduler.writeTrace(to:)`, `traceJSON()`, GOSCHED_TRACE=path with GoSched.install(), and `gort trace`.
//
// Recording (owner M only, no lock, no allocation per event): the M appends a fixed-size event to its current
// chunk and then publishes the new count with a release store. A full chunk is replaced by a fresh one on a
// slow path, linked (under sched.lock) into the scheduler's list of all chunks. Readers walk that list under
// the lock and read each chunk's count with an acquire load, so they see only whole events and may read while
// Ms still run (at process exit, for instance). Without `trace`, the cost is one predictable branch per job.
// Recording stops at `traceMaxEvents`; the number of events dropped after that is reported in the JSON.

/// What one trace event is.
enum TraceKind {
    /// A job ran on the M: [start, end], on P `p`, G `g`.
    static let job: UInt32 = 0
    /// The M parked (no P, nothing to do): [start, end].
    static let park: UInt32 = 1
    /// A `blocking { }` region inside a job: [start, end], on P `p`.
    static let blocking: UInt32 = 2
    /// The M, holding P `p`, stole work from P `g` (an instant: start == end).
    static let steal: UInt32 = 3
}

/// One event, 32 bytes. Written once by its M, before the chunk's count covers it.
struct TraceEvent {
    var start: UInt64
    var end: UInt64
    var g: UInt64
    var p: UInt32
    var kind: UInt32
}

/// A chunk of events of one M.
struct TraceChunk {
    /// The scheduler's list of all chunks, newest first. Written once under sched.lock before publication.
    var next: UnsafeMutablePointer<TraceChunk>?
    /// The M that writes this chunk. Immutable.
    let mid: Int
    /// Events written. Owner M: release store after writing an event; readers: acquire load.
    var count: UInt64 = 0

    static let capacity = 4096
    static let bytes = MemoryLayout<TraceChunk>.stride + capacity * MemoryLayout<TraceEvent>.stride

    init(mid: Int) { self.mid = mid }
}

extension UnsafeMutablePointer where Pointee == TraceChunk {
    @inline(__always) var events: UnsafeMutablePointer<TraceEvent> {
        (UnsafeMutableRawPointer(self) + MemoryLayout<TraceChunk>.stride).assumingMemoryBound(to: TraceEvent.self)
    }
}

/// The cap on recorded events per scheduler (about 64 MiB of chunks).
let traceMaxEvents: UInt64 = 2_000_000

/// Records one event on mp's current chunk. Owner M only.
@inline(__always)
func traceEvent(_ mp: UnsafeMutablePointer<M>, _ kind: UInt32, start: UInt64, end: UInt64, p: Int, g: UInt64) {
    var c = mp.pointee.traceChunk
    if c == nil || Int(c.unsafelyUnwrapped.pointee.count) == TraceChunk.capacity {
        c = traceNewChunk(mp)
        if c == nil { return }
    }
    let chunk = c.unsafelyUnwrapped
    let n = chunk.pointee.count  // only this M writes it
    chunk.events[Int(n)] = TraceEvent(start: start, end: end, g: g, p: UInt32(truncatingIfNeeded: p), kind: kind)
    gort_store_release(chunk.pointer(to: \.count)!, n &+ 1)  // release: the event's fields before the count covering it
}

/// A fresh chunk for mp (nil once the scheduler's cap is reached: the event is counted as dropped).
@inline(never)
func traceNewChunk(_ mp: UnsafeMutablePointer<M>) -> UnsafeMutablePointer<TraceChunk>? {
    let sched = mp.pointee.sched
    sched.lock()
    defer { sched.unlock() }
    if sched.pointee.traceChunks >= traceMaxEvents / UInt64(TraceChunk.capacity) {
        sched.pointee.traceDropped = sched.pointee.traceDropped &+ 1
        return nil
    }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: TraceChunk.bytes, alignment: 64)
    let c = raw.bindMemory(to: TraceChunk.self, capacity: 1)
    c.initialize(to: TraceChunk(mid: mp.pointee.id))
    c.pointee.next = sched.pointee.traceHead
    sched.pointee.traceHead = c
    sched.pointee.traceChunks = sched.pointee.traceChunks + 1
    mp.pointee.traceChunk = c
    return c
}

/// Streams the recording as Chrome trace-event JSON ("JSON object format": {"traceEvents": [...]}) to `out`.
/// Timestamps are microseconds since the scheduler started. pid is 1; tid is the M's id + 1 (tid 0 would be
/// hidden by some viewers). Metadata events name the process and each M's track.
func writeTraceJSON(_ sched: UnsafeMutablePointer<SchedState>, _ out: (String) -> Void) {
    sched.lock()
    var chunks: [UnsafeMutablePointer<TraceChunk>] = []
    var c = sched.pointee.traceHead
    while let ch = c { chunks.append(ch); c = ch.pointee.next }
    let dropped = sched.pointee.traceDropped
    let mcount = sched.pointee.mcount
    sched.unlock()
    let t0 = sched.pointee.startTime
    func us(_ t: UInt64) -> String {
        let d = t &- t0
        let whole = d / 1000, frac = d % 1000
        return "\(whole)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + "\(frac)"
    }
    out("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"recorder\":\"GoSched\",\"gomaxprocs\":\(sched.pointee.gomaxprocs),")
    out("\"droppedEvents\":\(dropped)},\"traceEvents\":[\n")
    out("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"GoSched\"}}")
    for m in 0..<mcount {
        out(",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":\(m + 1),\"args\":{\"name\":\"M\(m)\"}}")
        out(",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":\(m + 1),\"args\":{\"sort_index\":\(m)}}")
    }
    var line = ""
    line.reserveCapacity(256)
    for ch in chunks.reversed() {
        let n = Int(gort_load_acquire(ch.pointer(to: \.count)!))  // acquire: events below n are complete
        let tid = ch.pointee.mid + 1
        for i in 0..<n {
            let e = ch.events[i]
            line.removeAll(keepingCapacity: true)
            let dur = e.end &- e.start
            let durUS = "\(dur / 1000)." + (dur % 1000 < 10 ? "00" : dur % 1000 < 100 ? "0" : "") + "\(dur % 1000)"
            switch e.kind {
            case TraceKind.job:
                let kind = e.g & 1 == 0 ? "job" : "go"
                let g = "0x" + String(e.g & ~1, radix: 16)
                line += ",\n{\"ph\":\"X\",\"cat\":\"job\",\"name\":\"P\(e.p) \(kind)\",\"pid\":1,\"tid\":\(tid),"
                line += "\"ts\":\(us(e.start)),\"dur\":\(durUS),\"args\":{\"p\":\(e.p),\"g\":\"\(g)\",\"kind\":\"\(kind)\"}}"
            case TraceKind.park:
                line += ",\n{\"ph\":\"X\",\"cat\":\"park\",\"name\":\"park\",\"pid\":1,\"tid\":\(tid),"
                line += "\"ts\":\(us(e.start)),\"dur\":\(durUS),\"args\":{}}"
            case TraceKind.blocking:
                line += ",\n{\"ph\":\"X\",\"cat\":\"blocking\",\"name\":\"blocking\",\"pid\":1,\"tid\":\(tid),"
                line += "\"ts\":\(us(e.start)),\"dur\":\(durUS),\"args\":{\"p\":\(e.p)}}"
            default:
                line += ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"steal\",\"name\":\"steal\",\"pid\":1,\"tid\":\(tid),"
                line += "\"ts\":\(us(e.start)),\"args\":{\"p\":\(e.p),\"victim\":\(e.g)}}"
            }
            out(line)
        }
    }
    out("\n]}\n")
}

extension Scheduler {
    /// Whether this scheduler records a trace (`Scheduler(trace: true)`).
    public var isTracing: Bool { s.pointee.tracing }

    /// The recording so far as Chrome trace-event JSON (see Trace.swift). Safe while Ms run; complete after
    /// `shutdown()`. Empty of events when the scheduler does not trace.
    public func traceJSON() -> String {
        var s = ""
        writeTraceJSON(self.s) { s += $0 }
        return s
    }

    /// Writes `traceJSON()` to a file, streaming. Returns false if the file cannot be written.
    @discardableResult
    public func writeTrace(to path: String) -> Bool {
        guard let f = fopen(path, "w") else { return false }
        writeTraceJSON(s) { line in fputs(line, f) }
        return fclose(f) == 0
    }
}
