// File input and output shared by gort's subcommands, on plain POSIX calls so that any readable file works
// (pipes, FIFOs, /dev/stdin, `<(cmd)`: String(contentsOfFile:) and FileManager.contents(atPath:) need a
// regular file) and every failure is one line naming the path and strerror.
import Foundation

enum FileIO {
    /// The whole content of `path`, read to end of file.
    static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GortError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]); continue }
            if n == 0 { return data }
            if errno != EINTR { throw GortError("cannot read \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Writes `data` to `path` (created 0644 or truncated; a device or FIFO is written through).
    static func write(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GortError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else {
                    throw GortError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// One line on stderr (not through FileHandle, which traps on a closed pipe).
    static func note(_ line: String) {
        fputs(line.hasSuffix("\n") ? line : line + "\n", stderr)
    }
}
