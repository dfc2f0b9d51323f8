import CGoRuntime

// Go: runtime.g (runtime2.go). A G here is one run-queue entry, a tagged word:
//   - bit 0 clear: a Swift job (the address of a swift::Job, i.e. an UnownedJob). Swift gives each job
//     16 bytes of executor-private data at offset 16 (checked in tests against withUnsafeExecutorPrivateData);
//     the first 8 are our intrusive `schedlink`, so queueing a job never allocates; the second 8 hold the
//     global queue's batch word (gBatch) when the job heads a batch there.
//   - bit 0 set: a RawG, a closure-free unit of work ({ fn, ctx }) used by `go { }` and by the core stress
//     tests. Its `schedlink` sits at the same offset 16, so every list code path is kind-agnostic.
// A G is owned by exactly one queue (a P's ring, a runnext slot, the global list or a timer heap) at a time.

/// A run-queue entry. Never 0 (0 means "none" in every slot).
typealias GEntry = UInt

/// Offset of the intrusive link word in both kinds of G (Swift: Job.SchedulerPrivate[0]).
let gLinkOffset = 16

/// The priority of a Swift job G (TaskPriority's raw value): byte 1 of the job's 32-bit flags word, which
/// follows the 16 bytes of executor-private data (swift/ABI/MetadataValues.h: JobFlags, kind in bits 0-7,
/// priority in bits 8-15). A plain load instead of ExecutorJob.priority's calls into the runtime; checked
/// against ExecutorJob.priority in CoreTests.testJobPriorityByte.
@inline(__always)
func jobPriority(_ g: GEntry) -> UInt8 {
    UnsafePointer<UInt8>(bitPattern: g &+ UInt(jobPriorityOffset)).unsafelyUnwrapped.pointee
}

let jobPriorityOffset = 33

/// Whether G `g` is a Swift task that is a task-group child: the job's flags (a 32-bit word at offset 32: kind in
/// bits 0-7, 0 for a task; Task_IsGroupChildTask is bit 26, in the byte at offset 35). RawGs (low bit set) are not.
@inline(__always)
func isGroupChildTask(_ g: GEntry) -> Bool {
    if g & 1 != 0 { return false }
    let flags = UnsafePointer<UInt32>(bitPattern: g &+ 32).unsafelyUnwrapped.pointee
    return flags & 0xff == 0 && flags & (1 << 26) != 0
}

/// Whether G `g` is the job `Task.yield` enqueues: a nullary continuation job (JobKind 195 in the flags' low byte,
/// swift/ABI/MetadataValues.h), which resumes the yielding task. Task.sleep's continuation jobs have the same
/// kind but come through the timers, never `put`. Checked by YieldTests (its yields are counted as such).
@inline(__always)
func isYieldJob(_ g: GEntry) -> Bool {
    if g & 1 != 0 { return false }
    return UnsafePointer<UInt8>(bitPattern: g &+ 32).unsafelyUnwrapped.pointee == nullaryContinuationJobKind
}

let nullaryContinuationJobKind: UInt8 = 195

/// TaskPriority.medium.rawValue as a constant: TaskPriority is resilient, so spelling it costs three calls into
/// the runtime per enqueue. Jobs above it go to a P's high-priority ring. Checked in CoreTests.testJobPriorityByte.
let mediumPriority: UInt8 = 0x15

/// Go: runtime.g, for plain function work. Lives in memory owned by its creator until it has run.
public struct RawG {
    /// The work. Called once, on an M holding a P, with the RawG's own address (bind it with assumingMemoryBound).
    public var fn: @convention(c) (UnsafeMutableRawPointer) -> Void
    /// Free for the creator (an argument, a boxed closure).
    public var ctx: UnsafeMutableRawPointer?
    /// schedlink: owned by whichever queue holds this G.
    var link: UInt = 0
    /// The global queue's batch word (gBatch), at the same offset as a Swift job's second private word.
    var batch: UInt = 0

    public init(fn: @convention(c) (UnsafeMutableRawPointer) -> Void, ctx: UnsafeMutableRawPointer? = nil) {
        self.fn = fn
        self.ctx = ctx
    }
}

@inline(__always)
func gEntry(raw g: UnsafeMutablePointer<RawG>) -> GEntry { UInt(bitPattern: g) | 1 }

@inline(__always)
func gEntry(job: UnownedJob) -> GEntry { unsafeBitCast(job, to: UInt.self) }

/// The link word of a G (valid while one queue owns it).
@inline(__always)
func gLink(_ g: GEntry) -> UnsafeMutablePointer<UInt> {
    UnsafeMutablePointer<UInt>(bitPattern: (g & ~1) &+ UInt(gLinkOffset))!
}

/// The second private word of a G in the global queue: on the first G of a batch, that batch's last G and
/// length (batchWord), under sched.lock (Sched.swift, the global run queue); on the others of a runqputSlow
/// batch, the G `batchSkip` on (or 0), a prefetch hint only (it may be stale: never dereferenced).
@inline(__always)
func gBatch(_ g: GEntry) -> UnsafeMutablePointer<UInt> {
    UnsafeMutablePointer<UInt>(bitPattern: (g & ~1) &+ UInt(gLinkOffset + 8))!
}

/// How far ahead the skip pointer in a batch's other Gs points (runqputSlow): about as many misses as a core
/// keeps in flight.
let batchSkip = 8

/// The longest batch: a full ring's older half plus the G that did not fit (runqputSlow).
let maxBatch = Int(runqSize) / 2 + 1

/// A batch's last G and its length, in one word. The G is a user-space address below 2^48 (x86-64 and arm64
/// Linux with 48-bit addresses; a tagged or 57-bit pointer is refused, not silently cut).
@inline(__always) func batchWord(tail: GEntry, count: Int) -> UInt {
    if tail &>> 48 != 0 { fatal("GoSched: a job's address does not fit in 48 bits (global queue batch word)") }
    return tail | UInt(count) &<< 48
}
@inline(__always) func batchTail(_ w: UInt) -> GEntry { w & (1 &<< 48 &- 1) }
@inline(__always) func batchCount(_ w: UInt) -> Int { Int(w &>> 48) }
