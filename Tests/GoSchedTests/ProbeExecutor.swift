@_spi(ExperimentalCustomExecutors) import _Concurrency
import Foundation
import GoSched

/// Records where Swift puts a job's executor-private data relative to the job (GoSched links jobs there).
final class ProbeExecutor: TaskExecutor, @unchecked Sendable {
    let offsets = OrderLog()
    let inner = Scheduler(procs: 1)
    func enqueue(_ job: consuming ExecutorJob) {
        let u = UnownedJob(job)
        let base = unsafeBitCast(u, to: UnsafeMutableRawPointer.self)
        var job2 = ExecutorJob(u)
        job2.withUnsafeExecutorPrivateData { b in
            if offsets.items.isEmpty { offsets.append("\(b.baseAddress! - base):\(b.count)") }
        }
        inner.enqueue(job2)
    }
}
