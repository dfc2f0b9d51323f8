import Foundation

/// Runs `body` on a fresh thread with a 1 GiB stack and waits for it.
///
/// Why: type resolution and the Go parser recurse once per nesting level (a struct holding a struct, `***T`),
/// and real inputs can nest thousands deep; the 8 MiB main stack overflows near 5,000 levels. The stack is
/// reserved, not committed: only the pages a deep input touches cost memory.
func withLargeStack<T>(_ body: () throws -> T) throws -> T {
    var result: Result<T, Error>?
    withoutActuallyEscaping({ result = Result { try body() } }) { work in runOnLargeStack(work) }
    return try result!.get()
}

/// The analysis thread's stack size.
let largeStackBytes = 1 << 30

private final class StackJob {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `work` on a thread with a `largeStackBytes` stack and joins it; `work` has returned when this does.
private func runOnLargeStack(_ work: @escaping () -> Void) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, largeStackBytes)
    let context = Unmanaged.passRetained(StackJob(work)).toOpaque()
    #if os(Linux)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let created = pthread_create(&thread, &attributes, { context in
        Unmanaged<StackJob>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard created == 0 else {
        // No thread (resource limits): run here, on the normal stack, rather than fail.
        Unmanaged<StackJob>.fromOpaque(context).takeRetainedValue().run()
        return
    }
    #if os(Linux)
    pthread_join(thread, nil)
    #else
    pthread_join(thread!, nil)
    #endif
}
