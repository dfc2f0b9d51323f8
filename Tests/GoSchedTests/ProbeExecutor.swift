@_spi(ExperimentalCustomExecutors) import _Concurrency
import Foundation
@_spi(Testing) import GoSched

/// Records where Swift puts a job's executor-private data relative to the job (GoSched links jobs there).
final class ProbeExecutor: TaskExecutor, @unchecked Sendable {
    let offsets = OrderLog()
    /// "read:expected" for each job: the priority GoSched reads from the job's flags and ExecutorJob.priority.
    let priorities = OrderLog()
    let inner = Scheduler(procs: 1)
    func enqueue(_ job: consuming ExecutorJob) {
        let expected = job.priority.rawValue
        let u = UnownedJob(job)
        let base = unsafeBitCast(u, to: UnsafeMutableRawPointer.self)
        priorities.append("\(Scheduler.jobPriorityByte(u)):\(expected)")
        var job2 = ExecutorJob(u)
        job2.withUnsafeExecutorPrivateData { b in
            if offsets.items.isEmpty { offsets.append("\(b.baseAddress! - base):\(b.count)") }
        }
        inner.enqueue(job2)
    }
}
