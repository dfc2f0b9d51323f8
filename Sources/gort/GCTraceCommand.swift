// `gort gctrace [FILE]`: a summary of GODEBUG=gctrace=1 output (Go's or GoGC's: the same line format).
//
//   GODEBUG=gctrace=1 ./program 2> trace.txt; gort gctrace trace.txt
//
// Lines that are not gctrace lines are ignored, so a program's whole stderr can be given.
import ArgumentParser
import Foundation

struct GCTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gctrace",
        abstract: "Summarize GODEBUG=gctrace=1 output: cycles, pauses, mark time, heap sizes.")

    @Argument(help: "A file with gctrace lines, any readable file: a pipe, /dev/stdin, <(cmd) (default: standard input).")
    var file: String?

    func run() throws {
        let data = try file.map(FileIO.read) ?? FileHandle.standardInput.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        let cycles = text.split(separator: "\n").compactMap(GCTraceCycle.init)
        guard !cycles.isEmpty else { throw GortError("no gctrace lines (gc N @Ts P%: ...) in the input") }
        print(GCTraceSummary(cycles).text, terminator: "")
    }
}

/// One parsed gctrace line: "gc N @Ts P%: A+B+C ms clock, D+E/F/G+H ms cpu, X->Y->Z MB, W MB goal, ..., K P".
struct GCTraceCycle {
    var number: Int
    var startSeconds: Double
    var cpuPercent: Int
    /// Sweep termination pause, concurrent mark, mark termination pause (ms, wall clock).
    var clock: (Double, Double, Double)
    var heapStartMB: Int, heapEndMB: Int, heapMarkedMB: Int, goalMB: Int
    var forced: Bool

    init?(_ line: Substring) {
        guard line.hasPrefix("gc ") else { return nil }
        let f = line.split(separator: " ")
        guard f.count >= 11, let n = Int(f[1]), f[2].hasPrefix("@"), f[2].hasSuffix("s"),
              let start = Double(f[2].dropFirst().dropLast()), f[3].hasSuffix("%:"), let pct = Int(f[3].dropLast(2)),
              let (a, c) = GCRunStats.gctracePauses(line) else { return nil }
        let parts = f[4].split(separator: "+")
        guard parts.count == 3, let b = Double(parts[1]) else { return nil }
        guard let heapIdx = f.firstIndex(where: { $0.contains("->") }), heapIdx + 2 < f.count else { return nil }
        let h = f[heapIdx].split(separator: "-").map { $0.hasPrefix(">") ? $0.dropFirst() : $0 }.compactMap { Int($0) }
        guard h.count == 3, let goal = Int(f[heapIdx + 2]) else { return nil }
        number = n; startSeconds = start; cpuPercent = pct; clock = (a, b, c)
        heapStartMB = h[0]; heapEndMB = h[1]; heapMarkedMB = h[2]; goalMB = goal
        forced = line.hasSuffix("(forced)")
    }
}

struct GCTraceSummary {
    let cycles: [GCTraceCycle]
    init(_ c: [GCTraceCycle]) { cycles = c }

    var text: String {
        let pauses = cycles.flatMap { [$0.clock.0, $0.clock.2] }.sorted()
        func pct(_ q: Double) -> Double { pauses[min(pauses.count - 1, Int((Double(pauses.count) * q).rounded(.up)) - 1)] }
        let marks = cycles.map(\.clock.1).sorted()
        let last = cycles.last!
        let span = last.startSeconds - cycles.first!.startSeconds
        var out = "cycles        \(cycles.count) (\(cycles.filter(\.forced).count) forced)"
        out += span > 0 ? String(format: ", one every %.3f s\n", span / Double(max(cycles.count - 1, 1))) : "\n"
        out += String(format: "STW pauses    %d: total %.3f ms, median %.3f, p99 %.3f, max %.3f ms\n",
                      pauses.count, pauses.reduce(0, +), pct(0.5), pct(0.99), pauses.last!)
        out += String(format: "mark (wall)   total %.1f ms, median %.3f, max %.3f ms\n", marks.reduce(0, +), marks[marks.count / 2], marks.last!)
        out += "heap marked   \(cycles.map(\.heapMarkedMB).min()!)..\(cycles.map(\.heapMarkedMB).max()!) MB; "
        out += "peak at a cycle's end \(cycles.map(\.heapEndMB).max()!) MB; last goal \(last.goalMB) MB\n"
        out += "GC CPU        \(last.cpuPercent)% of the available CPU since start (last line)\n"
        return out
    }
}
