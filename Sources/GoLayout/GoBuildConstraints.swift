/// Go's file selection (`go/build`) for the one target the Go front end lays out: GOOS=linux, GOARCH=amd64,
/// the gc compiler, Go 1.19, cgo enabled (the go command's default for a native build with a C compiler).
///
/// A file found by walking a directory is part of the package only when
/// - its name does not start with `_` or `.` and does not end in `_test.go` (tests are often another package);
/// - its name has no `_GOOS`, `_GOARCH` or `_GOOS_GOARCH` suffix for another system (Go's known lists);
/// - its `//go:build` expression is true for the tags below, or, without one, its `// +build` lines are.
/// A file named on the command line is always read, as `go run file.go` does. The tags are fixed rather than
/// read from `go env`: layouts are computed for linux/amd64 whatever the host.
enum GoBuildConstraints {
    static let goos = "linux"
    static let goarch = "amd64"
    /// The newest release tag: `go1.1` through `go1.19` are satisfied.
    static let goMinor = 19

    static let knownOS: Set<String> = [
        "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl",
        "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
    ]
    static let knownArch: Set<String> = [
        "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle", "mips64",
        "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390", "s390x",
        "sparc", "sparc64", "wasm",
    ]

    /// Whether a build tag is satisfied on the target.
    static func tag(_ t: String) -> Bool {
        switch t {
        case goos, goarch, "unix", "gc", "cgo": return true
        default:
            guard t.hasPrefix("go1."), let minor = Int(t.dropFirst(4)) else { return false }
            return minor >= 1 && minor <= goMinor
        }
    }

    /// The file-name rules (go/build's goodOSArchFile, plus `_test.go` and ignored `_`/`.` prefixes).
    static func fileNameMatches(_ name: String) -> Bool {
        guard name.hasSuffix(".go"), !name.hasPrefix("_"), !name.hasPrefix("."), !name.hasSuffix("_test.go") else {
            return false
        }
        let stem = name.dropLast(3)
        // The part before the first `_` is never a constraint: `linux.go` is built everywhere.
        guard let underscore = stem.firstIndex(of: "_") else { return true }
        let parts = stem[underscore...].split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        let n = parts.count
        if n >= 2, knownOS.contains(parts[n - 2]), knownArch.contains(parts[n - 1]) {
            return parts[n - 2] == goos && parts[n - 1] == goarch
        }
        if let last = parts.last, knownOS.contains(last) || knownArch.contains(last) { return last == goos || last == goarch }
        return true
    }

    /// Whether the file's build constraints hold. Only the header counts: the lines before the package clause
    /// that are blank or comments. `//go:build` lines there decide (all of them must hold); without one, each
    /// `// +build` line that a blank line separates from the package clause must hold. An expression that does
    /// not parse makes the file excluded, as the go command refuses it.
    static func satisfied(by source: String) -> Bool {
        var goBuild: [Substring] = []
        var plusBuild: [Substring] = []
        var pendingPlus: [Substring] = []
        var inBlock = false
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            while line.last == "\r" || line.last == " " || line.last == "\t" { line = line.dropLast() }
            if inBlock {
                guard let end = line.range(of: "*/") else { continue }
                inBlock = false
                line = line[end.upperBound...].drop { $0 == " " || $0 == "\t" }
                if !line.isEmpty && !line.hasPrefix("//") && !line.hasPrefix("/*") { break }
            }
            if line.isEmpty { plusBuild += pendingPlus; pendingPlus = []; continue }
            if line.hasPrefix("//") {
                let body = line.dropFirst(2)
                if body.hasPrefix("go:build") && (body.count == 8 || body.dropFirst(8).first == " " || body.dropFirst(8).first == "\t") {
                    goBuild.append(body.dropFirst(8))
                } else {
                    let trimmed = body.drop { $0 == " " || $0 == "\t" }
                    if trimmed.hasPrefix("+build") && (trimmed.count == 6 || trimmed.dropFirst(6).first == " ") {
                        pendingPlus.append(trimmed.dropFirst(6))
                    }
                }
                continue
            }
            if line.hasPrefix("/*") {
                if let end = line.dropFirst(2).range(of: "*/") {
                    let rest = line[end.upperBound...].drop { $0 == " " || $0 == "\t" }
                    if rest.isEmpty { continue }
                    if rest.hasPrefix("//") { continue }
                    break
                }
                inBlock = true
                continue
            }
            break  // the package clause (or anything else) ends the header
        }
        if !goBuild.isEmpty {
            return goBuild.allSatisfy { line in
                var parser = Expression(String(line))
                return (try? parser.parse()) ?? false
            }
        }
        // `// +build a,b c` is (a && b) || c; several lines must all hold.
        return plusBuild.allSatisfy { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).contains { option in
                option.split(separator: ",").allSatisfy { term in
                    term.hasPrefix("!") ? !tag(String(term.dropFirst())) : tag(String(term))
                }
            }
        }
    }

    /// `//go:build` expressions: `||`, `&&`, `!`, parentheses and tags, with Go's precedence.
    struct Expression {
        struct Invalid: Error {}
        private var tokens: [String] = []
        private var p = 0

        init(_ text: String) {
            var s = Substring(text)
            while let c = s.first {
                if c == " " || c == "\t" { s = s.dropFirst(); continue }
                if s.hasPrefix("&&") || s.hasPrefix("||") { tokens.append(String(s.prefix(2))); s = s.dropFirst(2); continue }
                if c == "!" || c == "(" || c == ")" { tokens.append(String(c)); s = s.dropFirst(); continue }
                let word = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
                if word.isEmpty { tokens.append(String(c)); s = s.dropFirst(); continue }
                tokens.append(String(word)); s = s.dropFirst(word.count)
            }
        }

        mutating func parse() throws -> Bool {
            let v = try or()
            guard p == tokens.count else { throw Invalid() }
            return v
        }
        private mutating func or() throws -> Bool {
            var v = try and()
            while p < tokens.count && tokens[p] == "||" { p += 1; v = try and() || v }
            return v
        }
        private mutating func and() throws -> Bool {
            var v = try not()
            while p < tokens.count && tokens[p] == "&&" { p += 1; v = try not() && v }
            return v
        }
        private mutating func not() throws -> Bool {
            guard p < tokens.count else { throw Invalid() }
            if tokens[p] == "!" { p += 1; return !(try not()) }
            if tokens[p] == "(" {
                p += 1
                let v = try or()
                guard p < tokens.count && tokens[p] == ")" else { throw Invalid() }
                p += 1
                return v
            }
            let word = tokens[p]
            guard let first = word.first, first.isLetter || first.isNumber || first == "_" else { throw Invalid() }
            p += 1
            return GoBuildConstraints.tag(word)
        }
    }
}
