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
    /// Opt out without rebuilding: `GOSCHED=off` (or `0`) in the environment leaves Swift's default executor.
    /// GOMAXPROCS and GODEBUG=schedtrace=N are honoured; GOSCHED_TRACE=path records a Chrome trace-event JSON
    /// of the run, written at exit (see `gort trace`). Returns the scheduler, or nil when opted out.
    @discardableResult
    public static func install(procs: Int? = nil) -> Scheduler? {
        if let v = Procs.currentEnvironment()["GOSCHED"], v == "off" || v == "0" { return nil }
        if let s = shared { return s }
        let env = Procs.currentEnvironment()
        let tracePath = env["GOSCHED_TRACE"].flatMap { $0.isEmpty ? nil : $0 }
        let sched = Scheduler(procs: procs, trace: tracePath != nil)
        sched.s.pointee.runsAsGlobal = true  // no M has started yet: nothing is enqueued before install()
        shared = sched
        _createExecutors(factory: GoSchedExecutorFactory.self)
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
