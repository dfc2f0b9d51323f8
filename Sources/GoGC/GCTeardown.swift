// Releasing a collector. A `GC` is released when nothing holds it: its coordinator thread, its finalizer thread's
// Mutator, every Mutator, Root and Weak each hold it, so by then no thread of it runs and no handle to its
// objects exists (a Ref is only usable inside a Mutator's scope). GC.shutdown() ends the threads; a GC that
// never started them (not concurrent, no finalizer run) is released as soon as the program drops it. Its deinit
// then gives everything back: the heap (GoAlloc's Heap.destroy: arenas, metadata, the scavenger thread) and the
// collector's own metadata (the arena table and per-arena mark bitmaps, the root and weak tables, work buffers).
// GC.shared is never released.
@_spi(GoGC) import GoAlloc
import CGoRuntime
#if canImport(Glibc)
import Glibc
#endif

extension GC {
    /// deinit's work (see the file comment). Nothing else runs on this GC.
    func releaseEverything() {
        heap.destroy()
        let st = state
        for i in 0..<st.pointee.arenaCount {
            let a = st.pointee.arenaList[i]
            munmap(UnsafeMutableRawPointer(a.pointee.marks), GCArena.mappedBytes)
            a.deallocate()
        }
        munmap(UnsafeMutableRawPointer(st.pointee.arenaTable), GCState.arenaTableBytes)
        munmap(UnsafeMutableRawPointer(st.pointee.arenaList), GCState.arenaListBytes)
        for w in [coordWork, sharedWork] {
            w.pointee.buf?.deallocate()
            w.deallocate()
        }
        func freeList(_ head: UnsafeMutablePointer<WorkBuf>?) {
            var b = head
            while let x = b { b = x.pointee.next; UnsafeMutableRawPointer(x).deallocate() }
        }
        freeList(st.pointee.full)
        freeList(st.pointee.empty)
        for l in [registryLock, cycleLock, largeLock, sharedLock, statsLock] { l.deallocate() }
        st.deinitialize(count: 1)
        st.deallocate()
    }
}
