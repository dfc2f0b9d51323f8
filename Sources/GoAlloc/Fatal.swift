// Fatal errors. Go: throw(). Never allocates: the message is a StaticString, the pointer is formatted by hand,
// and the line goes straight to stderr with write(2) before abort().
import CGoRuntime

/// Aborts with one line: `gomalloc: fatal error: <call>(0x...): <message>`.
@inline(never)
func fatal(_ message: StaticString, call: StaticString = "", pointer: UInt = 0) -> Never {
    var w = StackLine()
    w.append("gomalloc: fatal error: ")
    if call.utf8CodeUnitCount > 0 {
        w.append(call)
        w.append("(")
        w.appendHex(pointer)
        w.append("): ")
    }
    w.append(message)
    w.append("\n")
    w.flush(fd: 2)
    abort()
}

/// Writes ` (0x...)` and a newline to `fd`, formatted on the stack: the end of GoGC's fatal messages that name
/// an address (their text, longer than a StackLine, goes out first).
@_spi(GoGC) public func writeAddressLineEnd(_ fd: Int32, _ p: UInt) {
    var w = StackLine()
    w.append(" (")
    w.appendHex(p)
    w.append(")\n")
    w.flush(fd: fd)
}

/// A 256-byte line buffer on the stack, for messages printed from inside the allocator.
struct StackLine {
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    static let capacity = 256

    mutating func appendByte(_ b: UInt8) {
        guard count < StackLine.capacity else { return }
        withUnsafeMutableBytes(of: &bytes) { $0[count] = b }
        count += 1
    }
    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { for b in $0 { appendByte(b) } }
    }
    mutating func appendHex(_ x: UInt) {
        append("0x")
        var started = false
        for i in stride(from: 60, through: 0, by: -4) {
            let d = Int((x >> UInt(i)) & 0xf)
            if d != 0 || started || i == 0 {
                started = true
                appendByte(d < 10 ? UInt8(48 + d) : UInt8(87 + d))
            }
        }
    }
    mutating func appendInt(_ x: Int) {
        if x < 0 { appendByte(45); appendUInt(UInt(-x)) } else { appendUInt(UInt(x)) }
    }
    mutating func appendUInt(_ x: UInt) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var v = x
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
        }
        withUnsafeBytes(of: &digits) { d in
            while n > 0 { n -= 1; appendByte(d[n]) }
        }
    }
    mutating func flush(fd: Int32) {
        let n = count
        withUnsafeBytes(of: &bytes) { writeAll(fd, $0.baseAddress!, n) }
        count = 0
    }
}
