import CGoRuntime
import GoAlloc
import Glibc

// Go: p.mcache (runtime2.go), acquirep/releasep (proc.go). Each P owns one MCache of the process-default heap;
// the M holding the P makes it its thread's cache, so every malloc a job makes on that thread (Swift task
// frames, job records, closure contexts) is served from the P's spans, without a lock, as in Go.
//
// Which heap: when libGoMalloc.so is the process's malloc, the heap is the library's (it holds the only
// default heap and its own copy of the TLS slot); the Ps bind to it through the library's exported
// gomalloc_cache_create/swap/destroy (GoAlloc/CacheBinding.swift), found with dlsym in the object that provides
// `malloc`. Otherwise the heap is GoAlloc's default heap in this image (the one Heap.default returns), reached
// through the same three functions linked here. Never both: one heap per process.
//
// Cost: a swap on acquirep and one on releasep (slow paths only); the job fast path is untouched. A P's cache
// is created by the first M that binds the P (lazily: a Scheduler that never runs a job maps nothing).

/// Where Ps' caches come from.
public enum PCacheSource: String, Sendable {
    /// libGoMalloc.so is the process's malloc: the Ps use its heap.
    case goMalloc
    /// GoAlloc's default heap linked into this image (malloc is someone else's).
    case inProcess
}

/// The three cache hooks, resolved once per process. Immutable after resolution.
struct PCacheHooks {
    let create: @convention(c) () -> UnsafeMutableRawPointer?
    let swap: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    let destroy: @convention(c) (UnsafeMutableRawPointer) -> Void
    let source: PCacheSource

    /// Resolved at the first Scheduler's creation (swift_once; never on a hot path).
    static let process: PCacheHooks = resolve()

    static func resolve() -> PCacheHooks {
        // The object that provides the process's `malloc`: if it also exports gomalloc_cache_swap, it is
        // libGoMalloc.so (preloaded or linked) and its heap is the process's heap.
        if let m = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc") {  // RTLD_DEFAULT
            if let fname = gort_object_path(m), let h = dlopen(fname, RTLD_LAZY | RTLD_NOLOAD)
            {
                defer { dlclose(h) }  // RTLD_NOLOAD took a reference; the library stays loaded regardless
                if let c = dlsym(h, "gomalloc_cache_create"), let s = dlsym(h, "gomalloc_cache_swap"),
                   let d = dlsym(h, "gomalloc_cache_destroy")
                {
                    return PCacheHooks(
                        create: unsafeBitCast(c, to: (@convention(c) () -> UnsafeMutableRawPointer?).self),
                        swap: unsafeBitCast(s, to: (@convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?).self),
                        destroy: unsafeBitCast(d, to: (@convention(c) (UnsafeMutableRawPointer) -> Void).self),
                        source: .goMalloc)
                }
            }
        }
        // Closures, not the @_cdecl functions themselves: naming those as C function values would emit a
        // second definition of their C symbols in this module.
        return PCacheHooks(create: { gomalloc_cache_create() }, swap: { gomalloc_cache_swap($0) },
                           destroy: { gomalloc_cache_destroy($0) }, source: .inProcess)
    }
}

/// acquirep's cache half: mp now holds pp; pp's cache becomes this thread's. Owner M only.
@inline(__always)
func bindPCache(_ mp: UnsafeMutablePointer<M>, _ pp: UnsafeMutablePointer<P>) {
    let hooks = mp.pointee.sched.pointee.cacheHooks
    if pp.pointee.mcache == nil {
        pp.pointee.mcache = hooks.create()  // nil when out of memory: the thread keeps its own cache
        if pp.pointee.mcache == nil { return }
    }
    mp.pointee.savedCache = hooks.swap(pp.pointee.mcache)
    mp.pointee.cacheBound = true
}

/// releasep's cache half: the thread's own cache (or none) comes back before pp can move to another M.
@inline(__always)
func unbindPCache(_ mp: UnsafeMutablePointer<M>) {
    if !mp.pointee.cacheBound { return }
    _ = mp.pointee.sched.pointee.cacheHooks.swap(mp.pointee.savedCache)
    mp.pointee.savedCache = nil
    mp.pointee.cacheBound = false
}

/// After every M has exited: flush and free the Ps' caches (their spans go back to the heap).
func destroyPCaches(_ s: UnsafeMutablePointer<SchedState>) {
    for i in 0..<s.allpCount {
        let pp = s.pointee.allp[i].unsafelyUnwrapped
        if let c = pp.pointee.mcache {
            pp.pointee.mcache = nil
            s.pointee.cacheHooks.destroy(c)
        }
    }
}

extension Scheduler {
    /// Where this process's Ps take their MCaches from.
    public static var pCacheSource: PCacheSource { PCacheHooks.process.source }

    /// The MCaches of this scheduler's Ps (nil for a P that has not run yet), GOMAXPROCS first, then spares.
    /// For tests and diagnostics: racy while Ms run.
    @_spi(Testing) public var pCaches: [UnsafeMutableRawPointer?] {
        (0..<s.allpCount).map { s.pointee.allp[$0].unsafelyUnwrapped.pointee.mcache }
    }

    /// The calling thread's current malloc cache, as the heap that serves malloc sees it (libGoMalloc.so's TLS
    /// slot when it is the process malloc). For tests.
    @_spi(Testing) public static var currentMallocCache: UnsafeMutableRawPointer? {
        let hooks = PCacheHooks.process
        let c = hooks.swap(nil)
        _ = hooks.swap(c)
        return c
    }
}
