// An output buffer that never calls malloc: text and JSON from inside the allocator (stats at exit, heap dumps).
// Writes to a file descriptor in 64 KiB chunks, or collects into mmap'd memory that doubles as needed.

public struct ByteSink {
    var buf: UnsafeMutableRawPointer?
    var cap = 0
    var count = 0
    /// Destination file descriptor, or -1 to collect in memory.
    let fd: Int32

    public init(fd: Int32) { self.fd = fd }
    public init() { self.fd = -1 }

    mutating func reserve(_ n: Int) -> Bool {
        if count + n <= cap { return true }
        if fd >= 0 && buf != nil {
            flush()
            if n <= cap { return true }
        }
        var newCap = max(cap * 2, 64 << 10)
        while newCap < count + n { newCap *= 2 }
        guard let p = sysMap(newCap) else { return false }
        if let old = buf {
            p.copyMemory(from: old, byteCount: count)
            sysFree(old, cap)
        }
        buf = p
        cap = newCap
        return true
    }

    public mutating func flush() {
        if fd >= 0, let b = buf, count > 0 {
            writeAll(fd, b, count)
            count = 0
        }
    }

    public mutating func write(_ s: StaticString) {
        s.withUTF8Buffer { b in
            guard reserve(b.count) else { return }
            buf!.advanced(by: count).copyMemory(from: b.baseAddress!, byteCount: b.count)
            count += b.count
        }
    }

    public mutating func writeByte(_ b: UInt8) {
        guard reserve(1) else { return }
        buf!.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    public mutating func write(_ x: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var v = x
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
        }
        withUnsafeBytes(of: &digits) { d in
            while n > 0 { n -= 1; writeByte(d[n]) }
        }
    }
    public mutating func write(_ x: Int) {
        if x < 0 { writeByte(45); write(UInt64(-x)) } else { write(UInt64(x)) }
    }

    /// `"key": value` with a leading comma unless `first`.
    public mutating func field(_ key: StaticString, _ value: UInt64, first: Bool = false) {
        if !first { write(", ") }
        writeByte(34); write(key); write("\": ")
        write(value)
    }

    /// Fixed-point: value/100 with two decimals.
    public mutating func writeHundredths(_ x: UInt64) {
        write(x / 100)
        writeByte(46)
        if x % 100 < 10 { writeByte(48) }
        write(x % 100)
    }

    /// The collected bytes as a String (collecting sinks only). Allocates: not for use inside malloc.
    public func string() -> String {
        guard let b = buf else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: b, count: count), as: UTF8.self)
    }

    /// Releases the buffer (flushing first if writing to a descriptor).
    public mutating func close() {
        flush()
        if let b = buf { sysFree(b, cap) }
        buf = nil
        cap = 0
        count = 0
    }
}
