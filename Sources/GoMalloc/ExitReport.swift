// libGoMalloc.so: the C ABI (GoMallocExports' C names -> GoAlloc/CABI.swift) plus the process hooks that only
// make sense when GoAlloc is the process's malloc.
//
// At exit, if set when the library was loaded (read then, as Go reads GODEBUG at start-up: a program that clears
// or changes its environment later still gets its report where the caller asked):
//   GOMALLOC_STATS=PATH      write MemStats as JSON to PATH (`%p` becomes the process id) — `gort run --stats`
//   GOMALLOC_HEAPDUMP=PATH   write the heap dump (every arena and span) to PATH — `gort run --heapdump`
// Both are written without allocating.
//
// Build: this target is Embedded Swift. It compiles GoAlloc's sources itself (Sources/GoMalloc/GoAlloc is a
// symbolic link to Sources/GoAlloc; the size-class generator is left out) instead of importing the GoAlloc
// module, because an Embedded module cannot import a regular one. The result needs no Swift runtime: a process
// that preloads libGoMalloc.so maps only libc besides it (fixed RSS 1.5 MB instead of 5.4 MB with
// libswiftCore and libstdc++), and a Swift host process keeps its single Swift runtime.
import CGoRuntime

/// The two paths as getenv gave them at load time. The strings of the initial environment stay where they are
/// (unsetenv and setenv only change `environ`'s pointers), so keeping the pointers is enough. Written once, by
/// the constructor, before main; read at exit.
nonisolated(unsafe) var statsPathAtStart: UnsafePointer<CChar>? = nil
nonisolated(unsafe) var heapDumpPathAtStart: UnsafePointer<CChar>? = nil

@_cdecl("gomalloc_read_report_paths")
public func gomalloc_read_report_paths() {
    statsPathAtStart = getenv("GOMALLOC_STATS").map { UnsafePointer($0) }
    heapDumpPathAtStart = getenv("GOMALLOC_HEAPDUMP").map { UnsafePointer($0) }
}

@_cdecl("gomalloc_exit_report")
public func gomalloc_exit_report() {
    guard let heap = Heap.existingDefault else { return }
    if let path = statsPathAtStart {
        withExpandedPath(path) { fd in
            var out = ByteSink(fd: fd)
            heap.raw.writeMemStatsJSON(&out)
            out.close()
        }
    }
    if let path = heapDumpPathAtStart {
        withExpandedPath(path) { fd in
            var out = ByteSink(fd: fd)
            heap.raw.writeHeapDump(&out)
            out.close()
        }
    }
}

/// Opens `path` with `%p` replaced by the pid and `%%` by `%` (in a stack buffer) and passes the descriptor to
/// `body`. A path that does not fit the buffer is not cut short (that would write some other file): it is
/// reported on stderr and nothing is written.
private func withExpandedPath(_ path: UnsafePointer<CChar>, _ body: (Int32) -> Void) {
    // PATH_MAX bytes on the stack (a pid adds at most 20 digits per %p, hence the margin).
    withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { b in
        var n = 0
        var i = 0
        while path[i] != 0 && n < b.count - 24 {
            if path[i] == 37 /* % */ && path[i + 1] == 37 {
                b[n] = 37
                n += 1
                i += 2
                continue
            }
            if path[i] == 37 /* % */ && path[i + 1] == 112 /* p */ {
                var pid = Int(getpid())
                var digits = 0
                var t = pid
                repeat { digits += 1; t /= 10 } while t > 0
                for k in stride(from: digits - 1, through: 0, by: -1) { b[n + k] = UInt8(48 + pid % 10); pid /= 10 }
                n += digits
                i += 2
                continue
            }
            b[n] = UInt8(bitPattern: path[i])
            n += 1
            i += 1
        }
        if path[i] != 0 {
            let m: StaticString = "gomalloc: GOMALLOC_STATS or GOMALLOC_HEAPDUMP path too long (over 4,070 bytes); not written\n"
            writeAll(2, m.utf8Start, m.utf8CodeUnitCount)
            return
        }
        b[n] = 0
        let fd = gort_open(b.baseAddress!.assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            body(fd)
            close(fd)
        }
    }
}
