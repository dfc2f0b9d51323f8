// Atomic operations on words in raw (mmap'd) memory. The memory ordering is in every name, as in mimalloc;
// each call site says why it needs that ordering. Backed by C11 atomics in CGoRuntime (always inlined).
import CGoRuntime

@inline(__always) func atomicLoadRelaxed(_ p: UnsafeMutablePointer<UInt64>) -> UInt64 { gort_load_relaxed(p) }
@inline(__always) func atomicLoadAcquire(_ p: UnsafeMutablePointer<UInt64>) -> UInt64 { gort_load_acquire(p) }
@inline(__always) func atomicStoreRelaxed(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) { gort_store_relaxed(p, v) }
@inline(__always) func atomicStoreRelease(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) { gort_store_release(p, v) }
@inline(__always) @discardableResult
func atomicAddRelaxed(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 { gort_fetch_add_relaxed(p, v) }
@inline(__always) @discardableResult
func atomicOrAcqRel(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 { gort_fetch_or_acqrel(p, v) }
@inline(__always) func atomicExchangeAcqRel(_ p: UnsafeMutablePointer<UInt64>, _ v: UInt64) -> UInt64 {
    gort_exchange_acqrel(p, v)
}
/// Strong compare-and-swap, acquire-release on success. Returns the success flag; `expected` gets the current value.
@inline(__always) func atomicCASAcqRel(_ p: UnsafeMutablePointer<UInt64>, _ expected: inout UInt64, _ desired: UInt64) -> Bool {
    gort_cas_acqrel(p, &expected, desired)
}
@inline(__always) func atomicCASRelease(_ p: UnsafeMutablePointer<UInt64>, _ expected: inout UInt64, _ desired: UInt64) -> Bool {
    gort_cas_release(p, &expected, desired)
}
@inline(__always) func atomicCASAcquire(_ p: UnsafeMutablePointer<UInt64>, _ expected: inout UInt64, _ desired: UInt64) -> Bool {
    gort_cas_acquire(p, &expected, desired)
}

/// Pointer <-> word conversions for pointer fields accessed atomically.
@inline(__always) func word<T>(_ p: UnsafeMutablePointer<T>?) -> UInt64 { UInt64(UInt(bitPattern: p)) }
@inline(__always) func asPointer<T>(_ w: UInt64, to: T.Type) -> UnsafeMutablePointer<T>? {
    UnsafeMutablePointer<T>(bitPattern: UInt(truncatingIfNeeded: w))
}
