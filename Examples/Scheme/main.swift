// gort-scheme: a small Scheme whose values all live in GoGC (see Values.swift), the collector's real client.
//
//   gort-scheme [--stats] FILE.scm ...   run programs in order (one global environment)
//   gort-scheme [--stats]                read a program from stdin (an interactive REPL if stdin is a terminal)
//
// GOGC, GOMEMLIMIT and GODEBUG=gctrace=1 apply as in Go. Exit status 1 after an error.
#if canImport(Glibc)
import Glibc
#endif
import GoGC

/// The evaluator recurses on the native stack for non-tail calls; it runs on a thread with this much stack.
let evaluatorStackBytes = 1 << 30

func runSource(_ i: Interp, _ source: String, echo: Bool) -> Bool {
    var reader = Reader(source)
    while true {
        do {
            // Read, then evaluate at once: no safepoint in between, and eval roots its argument.
            guard let datum = try reader.next(i) else { return true }
            let v = try i.eval(datum, nil)
            if echo, v != i.unspec {
                i.out.append(i.show(v)); i.out.append(10); i.out.flush()
            }
        } catch let e as SchemeError {
            i.out.flush()
            fputs("error: \(e.message)\n", stderr)
            return false
        } catch {
            i.out.flush()
            fputs("error: \(error)\n", stderr)
            return false
        }
    }
}

func readAll(_ fd: Int32) -> String? {
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return nil }
        if n == 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A REPL: reads lines until the parentheses balance, evaluates, prints the value.
func repl(_ i: Interp) {
    var pending = ""
    while true {
        fputs(pending.isEmpty ? "> " : "  ", stdout); fflush(stdout)
        guard let line = readLine(strippingNewline: false) else { break }
        pending += line
        var depth = 0, inString = false, escaped = false
        for c in pending.utf8 {
            if inString { if escaped { escaped = false } else if c == 92 { escaped = true } else if c == 34 { inString = false }; continue }
            if c == 34 { inString = true } else if c == 40 { depth += 1 } else if c == 41 { depth -= 1 }
        }
        if depth > 0 || inString { continue }
        _ = runSource(i, pending, echo: true)
        pending = ""
    }
}

func main(_ args: [String]) -> Int32 {
    var files: [String] = []
    var stats = false
    for a in args {
        if a == "--stats" { stats = true } else if a == "-h" || a == "--help" {
            print("usage: gort-scheme [--stats] [FILE.scm ...]")
            return 0
        } else if a.hasPrefix("-") {
            fputs("gort-scheme: unknown option \(a)\n", stderr)
            return 2
        } else { files.append(a) }
    }
    var sources: [(String, String)] = []
    for f in files {
        let fd = open(f, O_RDONLY)
        guard fd >= 0, let text = readAll(fd) else { fputs("gort-scheme: cannot read \(f)\n", stderr); return 2 }
        close(fd)
        sources.append((f, text))
    }
    let gc = GC.shared
    let mutator = gc.makeMutator()
    var ok = true
    mutator.run { m in
        let i = Interp(gc, m)
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        i.stackLimit = sp - UInt(evaluatorStackBytes - (1 << 20))
        guard runSource(i, prelude, echo: false) else { ok = false; return }
        if sources.isEmpty {
            if isatty(0) != 0 { repl(i) } else if let text = readAll(0) { ok = runSource(i, text, echo: false) }
        }
        for (_, text) in sources where ok { ok = runSource(i, text, echo: false) }
        i.out.flush()
    }
    if stats { fputs(gc.stats.text, stderr) }
    return ok ? 0 : 1
}

/// Runs `main` on a thread with a large stack and exits with its status.
final class Box { var status: Int32 = 0; let args: [String]; init(_ a: [String]) { args = a } }
let box = Box(Array(CommandLine.arguments.dropFirst()))
var attr = pthread_attr_t()
pthread_attr_init(&attr)
pthread_attr_setstacksize(&attr, evaluatorStackBytes)
var thread = pthread_t()
let rc = pthread_create(&thread, &attr, { arg in
    let b = Unmanaged<Box>.fromOpaque(arg!).takeUnretainedValue()
    b.status = main(b.args)
    return nil
}, Unmanaged.passUnretained(box).toOpaque())
if rc != 0 { fputs("gort-scheme: cannot start the evaluator thread\n", stderr); exit(2) }
pthread_join(thread, nil)
exit(box.status)
