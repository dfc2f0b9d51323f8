// Roots and weak references. Go: the roots of markroot (globals, stacks) — here Root handles — and weak
// pointers (internal/weak, Go 1.24).
//
// SlotTable: an array of words in raw memory with a free list threaded through free slots (a free slot holds
// (next << 1) | 1; live slots hold an object address, which is 8-aligned, or 0). `lock` guards every field
// and slot write; the collector reads slots under the lock in chunks.
@_spi(GoGC) import GoAlloc
import CGoRuntime

final class SlotTable: @unchecked Sendable {
    let lock: UnsafeMutablePointer<GCLock>
    let slots: UnsafeMutablePointer<UInt>
    var hwm = 0
    var freeHead = -1
    private(set) var count = 0
    static let capacity = 1 << 26

    init() {
        lock = UnsafeMutablePointer<GCLock>.allocate(capacity: 1)
        lock.initialize(to: GCLock())
        slots = gcMap(SlotTable.capacity * 8).assumingMemoryBound(to: UInt.self)
    }

    deinit {   // with its GC (GCTeardown.swift)
        munmap(UnsafeMutableRawPointer(slots), SlotTable.capacity * 8)
        lock.deallocate()
    }

    func alloc(_ v: UInt) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let i: Int
        if freeHead >= 0 {
            i = freeHead
            let n = slots[i] >> 1
            freeHead = n == UInt.max >> 1 ? -1 : Int(n)
        } else {
            if hwm == SlotTable.capacity { gcFatal("GoGC: root table full") }
            i = hwm
            hwm += 1
        }
        slots[i] = v
        count += 1
        return i
    }

    /// Frees slot `i`; returns the value it held.
    func free(_ i: Int) -> UInt {
        lock.lock()
        defer { lock.unlock() }
        let v = slots[i]
        slots[i] = (freeHead < 0 ? UInt.max >> 1 : UInt(freeHead)) << 1 | 1
        freeHead = i
        count -= 1
        return v
    }

    @inline(__always) func get(_ i: Int) -> UInt {
        lock.lock()
        let v = slots[i]
        lock.unlock()
        return v
    }

    /// Replaces slot `i`; returns the old value.
    func exchange(_ i: Int, _ v: UInt) -> UInt {
        lock.lock()
        let old = slots[i]
        slots[i] = v
        lock.unlock()
        return old
    }

    /// Calls `body` for every live non-nil value, taking the lock per chunk of 4096 slots.
    func forEachChunk(_ body: (UInt) -> Void) {
        var i = 0
        while true {
            lock.lock()
            let end = min(hwm, i + 4096)
            if i >= end { lock.unlock(); return }
            while i < end {
                let v = slots[i]
                if v != 0 && v & 1 == 0 { body(v) }
                i += 1
            }
            lock.unlock()
        }
    }

    /// Clears every slot whose value is not marked; returns how many. World stopped.
    func clearUnmarked(_ isMarked: (UInt) -> Bool) -> Int {
        lock.lock()
        defer { lock.unlock() }
        var n = 0
        for i in 0..<hwm {
            let v = slots[i]
            if v != 0 && v & 1 == 0 && !isMarked(v) { slots[i] = 0; n += 1 }
        }
        return n
    }
}

/// A strong root: keeps an object alive across scopes and safepoints. An ARC object whose slot in the root
/// table the collector scans; `deinit` unroots. Go: a global variable holding a pointer.
public final class Root<T>: @unchecked Sendable {
    let gc: GC
    let index: Int

    public init(_ m: Mutation, _ r: Ref<T>?) {
        gc = GC.owner(of: m.gc)
        index = gc.roots.alloc(r?.word ?? 0)
    }

    /// The rooted reference (valid in the scope of `m`).
    @inline(__always) public func get(_ m: Mutation) -> Ref<T>? { Ref<T>(word: gc.roots.get(index)) }

    /// Replaces the rooted reference. While marking, the old value is shaded (deletion barrier: the root
    /// table is scanned concurrently, so a value removed before the scan reaches it must not be lost).
    public func set(_ m: Mutation, _ r: Ref<T>?) {
        let old = gc.roots.exchange(index, r?.word ?? 0)
        if m.gc.isMarking && old != 0 {
            let gcw = m.gcwPtr
            m.gc.shade(old, gcw)
        }
    }

    deinit {
        let old = gc.roots.free(index)
        gc.shadeShared(old)
    }
}

/// A weak reference: does not keep its target alive; reads nil once the target was found unreachable.
/// Go: weak.Pointer. Cleared at mark termination, before finalizers resurrect objects.
public final class Weak<T>: @unchecked Sendable {
    let gc: GC
    let index: Int

    public init(_ m: Mutation, _ r: Ref<T>?) {
        gc = GC.owner(of: m.gc)
        index = gc.weaks.alloc(r?.word ?? 0)
    }

    /// The target, or nil if it was collected. While marking, a non-nil result is shaded: the caller now
    /// holds it in a local, which the snapshot at mark start did not include.
    public func get(_ m: Mutation) -> Ref<T>? {
        let v = gc.weaks.get(index)
        if v != 0 && m.gc.isMarking { m.gc.shade(v, m.gcwPtr) }
        return Ref<T>(word: v)
    }

    deinit { _ = gc.weaks.free(index) }
}
