// Running the program of `gort run` and `gort trace`: spawn, forward signals, wait, and report its end.
import Foundation
import Synchronization

/// How a program ended.
enum Termination: Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The status a shell would give: the exit code, or 128 + the signal.
    var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let sig): 128 + sig
        }
    }

    /// "signal 9 (SIGKILL)" for a signal death, nil for an exit.
    var signalDescription: String? {
        guard case .signaled(let sig) = self else { return nil }
        return "signal \(sig)" + (Termination.signalName(sig).map { " (\($0))" } ?? "")
    }

    /// Linux's names of the standard signals (the same numbers on x86-64 and arm64).
    static func signalName(_ sig: Int32) -> String? {
        let names = ["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
                     "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
                     "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]
        return sig >= 1 && Int(sig) <= names.count ? "SIG" + names[Int(sig) - 1] : nil
    }

    init(waitStatus status: Int32) {
        self = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }
}

/// posix_spawnp and wait, as a shell runs a command: a file without `#!` that the kernel will not execute
/// runs under /bin/sh (as execvp and env do); "not found" is exit status 127 and "cannot execute" 126.
/// While the program runs, SIGHUP, SIGINT, SIGQUIT and SIGTERM sent to gort go to it, and gort keeps waiting,
/// so it always gets to clean up and exit with the program's status. One program at a time per process.
enum Spawn {
    static func runAndWait(_ argv: [String], environment: [String: String]) throws -> (pid_t, Termination) {
        SignalForwarding.install()
        var pid: pid_t = 0
        var rc = spawn(argv, environment, &pid)
        if rc == ENOEXEC, let file = resolve(argv[0]) {
            rc = spawn(["/bin/sh", file] + argv.dropFirst(), environment, &pid)
        }
        guard rc == 0 else {
            let notFound = rc == ENOENT || rc == ENOTDIR
            let reason = notFound && !argv[0].contains("/") ? "command not found" : String(cString: strerror(rc))
            SignalForwarding.childGone()
            throw GortError("cannot run \(argv[0]): \(reason)", status: notFound ? 127 : 126)
        }
        SignalForwarding.childStarted(pid)
        // Reports are written to stderr after the program ends; a closed pipe must not kill gort before
        // it removed its temporary directory. (The program was spawned with gort's own SIGPIPE disposition.)
        signal(SIGPIPE, SIG_IGN)
        // Wait without reaping first: until the pid is reaped it cannot be reused, so a late forward never
        // hits another process.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        SignalForwarding.childGone()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (pid, Termination(waitStatus: status))
    }

    private static func spawn(_ argv: [String], _ environment: [String: String], _ pid: inout pid_t) -> Int32 {
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        return posix_spawnp(&pid, argv[0], nil, nil, cArgs, cEnv)
    }

    /// The file posix_spawnp ran for `name`: itself if it has a slash, else the first executable in PATH.
    private static func resolve(_ name: String) -> String? {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let file = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if access(file, X_OK) == 0 { return file }
        }
        return nil
    }
}

/// Forwards the termination signals sent to gort (kill, timeout, a supervisor) to the running program.
/// Signals the kernel sends itself (a terminal's ^C, ^\ or hangup) already reach the program's whole
/// process group, so they are not sent twice. Signals gort inherited as ignored stay ignored, for it and
/// for the program. The handler only reads two atomics and calls kill(2): async-signal-safe.
enum SignalForwarding {
    static let signals: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM]

    static func install() {
        _ = target.load(ordering: .relaxed); _ = pending.load(ordering: .relaxed)  // initialized before any handler runs
        for sig in signals {
            var old = sigaction()
            guard sigaction(sig, nil, &old) == 0,
                  unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self)
            else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { sig, info, _ in
                if let info, info.pointee.si_code > 0 { return }  // sent by the kernel (SI_KERNEL, ...)
                let pid = target.load(ordering: .acquiring)
                if pid > 0 { kill(pid, sig) } else if pid == 0 { pending.store(sig, ordering: .releasing) }
            }
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    /// From now on signals go to `pid`; one that came before the spawn is delivered now.
    static func childStarted(_ pid: pid_t) {
        target.store(pid, ordering: .releasing)
        let sig = pending.exchange(0, ordering: .acquiringAndReleasing)
        if sig != 0 { kill(pid, sig) }
    }

    /// The program has exited (or never started): signals are dropped, gort finishes its reports and exits.
    static func childGone() { target.store(-1, ordering: .releasing) }
}

/// The pid signals are forwarded to: 0 before the spawn, -1 once the program has exited (before it is reaped).
private let target = Atomic<Int32>(0)
/// A signal that arrived before the spawn (0: none).
private let pending = Atomic<Int32>(0)
