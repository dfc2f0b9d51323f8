// File input and output shared by gort's subcommands, on plain POSIX calls so that any readable file works
// (pipes, FIFOs, /dev/stdin, `<(cmd)`: String(contentsOfFile:) and FileManager.contents(atPath:) need a
// regular file) and every failure is one line naming the path and strerror.
import ArgumentParser
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

/// A file gort writes after running a program (`gort run --heapdump F`, `--stats-file F`).
///
/// Checked before the program runs (usage errors: empty name, a directory, a directory that does not exist or
/// is not writable), and a stale F is removed then, so what F holds afterwards is always this run's. A device
/// or FIFO (/dev/stdout, `>(cmd)`) is kept and written through.
struct OutputFile {
    let path: String

    /// The usage checks, for `validate()`; `option` names the flag in the message.
    static func validate(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(option) needs a file name") }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { throw ValidationError("\(option) \(path) is a directory") }
            if (st.st_mode & S_IFMT) != S_IFREG {
                guard access(path, W_OK) == 0 else { throw ValidationError("\(option) \(path) is not writable") }
                return
            }
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue,
              access(dir, W_OK | X_OK) == 0 else {
            throw ValidationError("\(option) \(path): its directory does not exist or is not writable")
        }
    }

    /// True when F is a device, FIFO or socket (written through, never removed or replaced).
    var isSpecial: Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG
    }

    /// Removes a stale regular F (or a symbolic link to one) before the run.
    func removeStale() throws {
        if isSpecial { return }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw GortError("cannot remove the old \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Moves the file at `source` (in gort's temporary directory) to F: a rename when it can, else a copy.
    func take(_ source: String) throws {
        if !isSpecial && rename(source, path) == 0 { return }
        try FileIO.write(try FileIO.read(source), to: path)
    }
}
