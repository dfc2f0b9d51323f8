// Everything the allocator asks of the OS, in one place (mimalloc's prim/, Go's mem_linux.go).
// No function here allocates, so any of them may run inside malloc.
import CGoRuntime

/// Go: sysAlloc/sysReserve+sysMap. Maps `n` bytes of zeroed, read-write memory (`hint` may be nil).
/// MAP_NORESERVE: only touched pages count, so reserving whole arenas costs no RSS.
@inline(never)
func sysMap(_ n: Int, hint: UnsafeMutableRawPointer? = nil) -> UnsafeMutableRawPointer? {
    let p = mmap(hint, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if p == UnsafeMutableRawPointer(bitPattern: -1) { return nil }  // MAP_FAILED
    return p
}

/// Go: sysFree.
@inline(never)
func sysFree(_ p: UnsafeMutableRawPointer, _ n: Int) { munmap(p, n) }

/// Go: sysUnused. Hands pages back to the OS. MADV_DONTNEED frees them now (RSS drops at once, the next touch
/// gets zero pages); MADV_FREE lets the kernel take them lazily under memory pressure (RSS may stay high,
/// contents are undefined until written). GODEBUG=madvdontneed=0 selects MADV_FREE, as in Go 1.12-1.15.
@inline(never)
func sysUnused(_ p: UnsafeMutableRawPointer, _ n: Int, dontneed: Bool) {
    if !dontneed {
        if madvise(p, n, 8 /* MADV_FREE */) == 0 { return }
    }
    _ = madvise(p, n, MADV_DONTNEED)
}

/// Go: sysHugePage. Asks for transparent huge pages on a fresh arena (fewer TLB misses on big heaps).
@inline(never)
func sysHugePage(_ p: UnsafeMutableRawPointer, _ n: Int) { _ = madvise(p, n, 14 /* MADV_HUGEPAGE */) }

/// Faults in `n` bytes of pages now, writable, in one call (MADV_POPULATE_WRITE, Linux 5.14+): Prefault.swift.
/// 0 on success, else errno: EINVAL when the kernel does not know the advice; ENOMEM or EFAULT when it could not
/// back the pages now (a memory cgroup at its limit, say), where a touch might still succeed after reclaim.
@inline(never)
func sysPopulate(_ p: UnsafeMutableRawPointer, _ n: Int) -> Int32 {
    madvise(p, n, 23 /* MADV_POPULATE_WRITE */) == 0 ? 0 : gort_errno()
}

/// Monotonic nanoseconds (vDSO; no syscall, no allocation).
@inline(never)
func nanotime() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}

/// Writes all of `n` bytes to `fd`, retrying on short writes and EINTR.
func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) {
    var off = 0
    while off < n {
        let r = write(fd, p + off, n - off)
        if r > 0 { off += r } else if r < 0 && gort_errno() == EINTR { continue } else { return }
    }
}

/// The value of environment variable `name` (a NUL-terminated static string), or nil. getenv does not allocate.
func getenvRaw(_ name: StaticString) -> UnsafePointer<CChar>? {
    getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)).map { UnsafePointer($0) }
}

/// RAM + swap in bytes (at least 1 GiB, at most 2^46): no single request larger than this can be backed.
func sysMemoryLimit() -> UInt {
    let total = UInt(gort_sys_memory())
    return total == 0 ? 1 << 46 : min(max(total, 1 << 30), 1 << 46)
}

/// Whether the process's own threads are all gone and only `libraryThreads` of ours remain: the main thread
/// called pthread_exit (it waits as a zombie until the process ends) and every other thread has exited. POSIX
/// ends the process with status 0 when its last thread ends; a background thread of ours must not keep it alive.
/// From /proc/self/stat: the state (field 3) is the main thread's, Z once it has exited, and num_threads (field
/// 20) still counts it. False when /proc cannot be read. No allocation (a stack buffer).
func sysOnlyLibraryThreadsLeft(_ libraryThreads: Int) -> Bool {
    withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { b -> Bool in
        let path: StaticString = "/proc/self/stat"
        let fd = gort_open(UnsafeRawPointer(path.utf8Start).assumingMemoryBound(to: CChar.self), O_RDONLY, 0)
        if fd < 0 { return false }
        var n = 0
        while n < b.count {
            let r = read(fd, b.baseAddress! + n, b.count - n)
            if r > 0 { n += r } else if r < 0 && gort_errno() == EINTR { continue } else { break }
        }
        close(fd)
        // The command name (field 2) may hold spaces and parentheses: fields 3 on start after its last ')'.
        var i = n - 1
        while i >= 0 && b[i] != UInt8(ascii: ")") { i -= 1 }
        if i < 0 || i + 2 >= n || b[i + 2] != UInt8(ascii: "Z") { return false }
        var field = 3
        var k = i + 2
        while k < n && field < 20 {
            if b[k] == UInt8(ascii: " ") { field += 1 }
            k += 1
        }
        var threads = 0
        var digits = 0
        while k < n, b[k] >= UInt8(ascii: "0"), b[k] <= UInt8(ascii: "9") {
            threads = threads &* 10 &+ Int(b[k] &- UInt8(ascii: "0"))
            digits += 1
            k += 1
        }
        return field == 20 && digits > 0 && threads == libraryThreads + 1
    }
}
