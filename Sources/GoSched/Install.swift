@_spi(ExperimentalCustomExecutors) import _Concurrency
import Glibc

/// The process-wide GoSched.
public enum GoSched {
    /// The scheduler installed by `install()`, nil before (or when opted out).
    public nonisolated(unsafe) private(set) static var shared: Scheduler? = nil

    /// Makes GoSched the global executor of this process: every `Task`, task-group child, `async let`, default
    /// actor and `Task.sleep` then runs on it. The main actor stays on the platform's main executor.
    ///
    /// Opt in with one line, the first statement of `main.swift` (before anything is enqueued: Swift reads the
    /// executor factory once, at the first enqueue):
    ///
    ///     GoSched.install()
    ///
    /// Opt out without rebuilding: `GOSCHED=off` (or `0`, `false`, `no`, in any case) in the environment leaves
    /// Swift's default executor.
    /// GOMAXPROCS and GODEBUG=schedtrace=N are honoured; GOSCHED_TRACE=path records a Chrome trace-event JSON
    /// of the run, written at exit (see `gort trace`). Returns the scheduler, or nil when opted out.
    /// Whether a GOSCHED value opts out: off, 0, false or no, in any case (what users type for a switch).
    static func optsOut(_ value: String) -> Bool {
        ["off", "0", "false", "no"].contains(value.lowercased())
    }

    @discardableResult
    public static func install(procs: Int? = nil) -> Scheduler? {
        if let v = Procs.currentEnvironment()["GOSCHED"], optsOut(v) { return nil }
        if let s = shared { return s }
        let env = Procs.currentEnvironment()
        let tracePath = env["GOSCHED_TRACE"].flatMap { $0.isEmpty ? nil : $0 }
        let sched = Scheduler(procs: procs, trace: tracePath != nil)
        sched.s.pointee.runsAsGlobal = true  // no M has started yet: nothing is enqueued before install()
        shared = sched
        _createExecutors(factory: GoSchedExecutorFactory.self)
        installEnqueueGlobalHook(sched.s)
        if let path = tracePath {
            // GOSCHED_TRACE=path (what `gort trace -- CMD` sets): the trace is written when the process exits.
            traceOutputPath = path
            atexit { GoSched.writeTraceAtExit() }
        }
        return sched
    }

    /// GOSCHED_TRACE's path. Written once by install(), before the atexit handler that reads it is registered.
    nonisolated(unsafe) static var traceOutputPath: String? = nil

    static func writeTraceAtExit() {
        guard let s = shared, let path = traceOutputPath else { return }
        if !s.writeTrace(to: path) {
            "GoSched: cannot write the trace to \(path)\n".withCString { _ = write(2, $0, strlen($0)) }
        }
    }
}

// The enqueue fast path. With only the executor factory, the runtime's swift_task_enqueueGlobal runs
// `Task.defaultExecutor.enqueue(job)` (ExecutorImpl.swift): it loads the `any TaskExecutor` (a swift_retain of the
// Scheduler), calls through the existential's witness table and releases it. In ping-pong that retain/release
// pair was 5% of the samples, and with several Ms enqueueing it makes the Scheduler's refcount word a shared,
// contended cache line. swift_task_enqueueGlobal first checks the runtime's `swift_task_enqueueGlobal_hook`
// (ConcurrencyHooks.def, exported by libswift_Concurrency), so install() points it at `enqueueGlobalHook`, which
// reaches the SchedState through a plain global pointer: no ARC, no existential. The factory stays installed for
// everything else the runtime asks of it (the main executor, Task.sleep's delayed enqueues, Task.defaultExecutor).

/// The runtime's types for the hook: the job and the runtime's own enqueue, in the Swift calling convention
/// (`SWIFT_CC(swift)`, so `@convention(thin)`, not `@convention(c)`).
typealias EnqueueGlobalOriginal = @convention(thin) (UnownedJob) -> Void
typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, EnqueueGlobalOriginal) -> Void

/// The installed scheduler's state, for `enqueueGlobalHook`. Written once by install() before the hook is set
/// (the hook's first call happens after, on the thread that set it or after a synchronizing enqueue); read-only
/// afterwards. A constant-initialized global: no lazy-initialization check on access.
nonisolated(unsafe) var installedSched: UnsafeMutablePointer<SchedState>? = nil

/// swift_task_enqueueGlobal's hook: every job the runtime puts on the global executor comes here.
func enqueueGlobalHook(_ job: UnownedJob, _ original: EnqueueGlobalOriginal) {
    let g = gEntry(job: job)
    put(installedSched.unsafelyUnwrapped, g, high: jobPriority(g) > mediumPriority)
}

/// Points the runtime's `swift_task_enqueueGlobal_hook` at `enqueueGlobalHook`. Without the symbol (a runtime that
/// no longer has the hook) the factory's `enqueue` keeps working, only slower.
func installEnqueueGlobalHook(_ s: UnsafeMutablePointer<SchedState>) {
    installedSched = s
    guard let sym = dlsym(nil, "swift_task_enqueueGlobal_hook") else { return }
    sym.assumingMemoryBound(to: Optional<EnqueueGlobalHook>.self).pointee = enqueueGlobalHook
}

/// Handed to the Swift runtime by install(). Go: none (this is Swift's hook).
struct GoSchedExecutorFactory: ExecutorFactory {
    static var mainExecutor: any MainExecutor { PlatformExecutorFactory.mainExecutor }
    static var defaultExecutor: any TaskExecutor { GoSched.shared! }
}

extension GoSched {
    /// True on a thread (M) of any GoSched scheduler. For tests and assertions (Go: getg().m != nil).
    public static var isOnSchedulerThread: Bool { currentM() != nil }

    /// The GOMAXPROCS in force for the installed scheduler (or what it would be).
    public static var gomaxprocs: Int { shared?.gomaxprocs ?? Procs.gomaxprocs() }
}
