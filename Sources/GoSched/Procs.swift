import Glibc
import GoAlloc

// GOMAXPROCS: from the environment if set (Go's meaning), else the CPUs this process may use: the affinity mask
// (sched_getaffinity) capped by the cgroup CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us),
// rounded up, at least 1.

public enum Procs {
    /// GOMAXPROCS as Go would pick it here.
    public static func gomaxprocs(environment: [String: String] = currentEnvironment()) -> Int {
        if let s = environment["GOMAXPROCS"], let n = GODEBUG.atoi32(s), n > 0 { return min(Int(n), maxProcs) }
        return usableCPUs()
    }

    /// The cap on GOMAXPROCS (Go 1.19 has none; spares lent while Ps block come on top of it).
    public static let maxProcs = 1024

    public static func usableCPUs() -> Int {
        var n = affinityCount()
        if let q = cgroupQuotaCPUs(), q < n { n = q }
        return max(1, min(n, maxProcs))
    }

    /// Number of CPUs in our affinity mask (the `Cpus_allowed` hex mask of /proc/self/status, which is what
    /// sched_getaffinity returns; glibc hides that call behind _GNU_SOURCE).
    public static func affinityCount() -> Int {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        guard let f = fopen("/proc/self/status", "r") else { return online }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 4096)
        while fgets(&buf, 4096, f) != nil {
            let line = String(cString: buf)
            guard line.hasPrefix("Cpus_allowed:") else { continue }
            var n = 0
            for ch in line.dropFirst("Cpus_allowed:".count) {
                if let v = ch.hexDigitValue { n += v.nonzeroBitCount }
            }
            return n > 0 ? n : online
        }
        return online
    }

    /// ceil(quota / period) from cgroup v2 or v1, nil when unlimited or unknown.
    public static func cgroupQuotaCPUs(root: String = "/sys/fs/cgroup") -> Int? {
        if let s = readFile(root + "/cpu.max") {
            let parts = s.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count >= 2, let q = Double(parts[0]), let p = Double(parts[1]), p > 0 {
                return max(1, Int((q / p).rounded(.up)))
            }
            return nil  // "max ..."
        }
        if let qs = readFile(root + "/cpu/cpu.cfs_quota_us"), let ps = readFile(root + "/cpu/cpu.cfs_period_us"),
           let q = Double(qs.trimmingCharacters()), let p = Double(ps.trimmingCharacters()), q > 0, p > 0
        {
            return max(1, Int((q / p).rounded(.up)))
        }
        return nil
    }

    static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 256)
        guard fgets(&buf, 256, f) != nil else { return nil }
        return String(cString: buf)
    }

    public static func currentEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let cs = p.pointee {
            let s = String(cString: cs)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return env
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}

/// GODEBUG=name=value,... (Go's syntax). Read once, at scheduler creation.
struct GoDebug {
    var schedtrace = 0
    var scheddetail = 0
    var schedchecks = 0

    init(_ s: String?) {
        guard let s else { return }
        for kv in s.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = kv.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let v = GODEBUG.atoi32(parts[1]).map(Int.init) else { continue }
            switch parts[0] {
            case "schedtrace": schedtrace = v
            case "scheddetail": scheddetail = v
            case "schedchecks": schedchecks = v
            default: break
            }
        }
    }
}
