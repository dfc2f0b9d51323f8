import Foundation
import XCTest
@testable import GoLayout

/// Which files form a Go package (build constraints, file names, package clauses) and what an imported name
/// refers to. Expected values were measured with Go 1.19 on linux/amd64 (`unsafe.Sizeof`, `Offsetof`).
final class GoPackageTests: XCTestCase {
    /// Writes `files` (relative path to contents) under a fresh directory and analyzes `paths` (relative).
    func analyze(_ name: String, _ files: [String: String], paths: [String] = [""]) throws -> [String: StructReport] {
        let dir = try makeTemporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let reports = try LayoutAnalyzer(model: .x86_64Linux).analyze(paths.map { dir.appendingPathComponent($0).path })
        return Dictionary(reports.map { ($0.name, $0) }) { a, _ in a }
    }

    func testFileNameSuffixSelectsTheLinuxFile() throws {
        // Go: Sizeof(Y) = 2, Alignof(Y) = 1 (X is b_linux.go's; a_windows.go is not built).
        let r = try analyze("gosuffix", [
            "bt/a_windows.go": "package main\ntype X struct{ a int64 }\n",
            "bt/b_linux.go": "package main\ntype X struct{ a int8 }\n",
            "bt/main.go": "package main\ntype Y struct {\n\ta int8\n\tx X\n}\n",
            "bt/c_test.go": "package main\ntype T struct{ a int64 }\n",
            "bt/d_arm64.go": "package main\ntype D struct{ a int64 }\n",
            "bt/e_linux_amd64.go": "package main\ntype E struct{ a int32 }\n",
        ])
        XCTAssertEqual([r["Y"]?.size, r["Y"]?.alignment], [2, 1])
        XCTAssertEqual(Set(r.keys), ["X", "Y", "E"])
    }

    func testBuildConstraintAndPackageClause() throws {
        // Go: Sizeof(User) = 16, Offsetof(User.c) = 8: gen.go (`//go:build ignore`, package main) is not built.
        let r = try analyze("goconstraint", [
            "xt/gen.go": "//go:build ignore\n\npackage main\n\ntype Conf struct{ b int8 }\n",
            "xt/p.go": "package xt\ntype Conf struct{ a int64 }\ntype User struct {\n\ta int8\n\tc Conf\n}\n",
        ])
        XCTAssertEqual(r["User"]?.size, 16)
        XCTAssertEqual(r["User"]?.fields.map(\.offset), [0, 8])
    }

    func testTwoPackagesInOneDirectoryDoNotMix() throws {
        // No constraint hides gen.go here: each package is laid out with its own declarations.
        let r = try analyze("gotwopkgs", [
            "xt/gen.go": "package main\ntype Conf struct{ b int8 }\ntype M struct {\n\ta int8\n\tc Conf\n}\n",
            "xt/p.go": "package xt\ntype Conf struct{ a int64 }\ntype User struct {\n\ta int8\n\tc Conf\n}\n",
        ])
        XCTAssertEqual(r["User"]?.size, 16)
        XCTAssertEqual(r["M"]?.size, 2)
    }

    func testNamedFileIsAlwaysRead() throws {
        let r = try analyze("gonamed", ["gen_windows.go": "//go:build ignore\n\npackage main\ntype G struct{ a int8 }\n"],
                            paths: ["gen_windows.go"])
        XCTAssertEqual(r["G"]?.size, 1)
    }

    func testBuildExpressions() {
        let cases: [(String, Bool)] = [
            ("//go:build linux\n\npackage p\n", true),
            ("//go:build windows\n\npackage p\n", false),
            ("//go:build linux && amd64\n\npackage p\n", true),
            ("//go:build linux && !amd64\npackage p\n", false),
            ("//go:build (darwin || linux) && (amd64 || arm64) && gc && go1.18\n\npackage p\n", true),
            ("//go:build go1.20\n\npackage p\n", false),
            ("//go:build unix && cgo\n\npackage p\n", true),
            ("//go:build !unix\n\npackage p\n", false),
            ("// Copyright\n\n//go:build ignore\n// +build ignore\n\npackage p\n", false),
            ("/* block */\n//go:build linux\n\npackage p\n", true),
            ("// +build windows linux\n\npackage p\n", true),
            ("// +build linux,386\n\npackage p\n", false),
            ("// +build !windows\n// +build amd64\n\npackage p\n", true),
            ("// +build windows\npackage p\n", true),  // not followed by a blank line: a plain comment
            ("//go:build linux\n// +build windows\n\npackage p\n", true),  // go:build decides
            ("package p\n//go:build windows\n", true),  // after the package clause: a plain comment
            ("//go:build linux &&\n\npackage p\n", false),  // malformed: not built
        ]
        for (source, expected) in cases {
            XCTAssertEqual(GoBuildConstraints.satisfied(by: source), expected, source)
        }
        XCTAssertTrue(GoBuildConstraints.fileNameMatches("linux.go"))
        XCTAssertTrue(GoBuildConstraints.fileNameMatches("x_unix.go"))
        XCTAssertFalse(GoBuildConstraints.fileNameMatches("x_linux_arm64.go"))
        XCTAssertFalse(GoBuildConstraints.fileNameMatches("_x.go"))
    }

    func testImportsResolveByPathNotByName() throws {
        // Go: Sizeof(S) = 8, Alignof(S) = 4 with the module's own `atomic`; the tool does not analyze
        // imported packages, so S is unknown rather than sync/atomic's 16 bytes.
        let r = try analyze("goimports", [
            "at/go.mod": "module at\n\ngo 1.19\n",
            "at/atomic/atomic.go": "package atomic\ntype Bool struct{ u uint8 }\ntype Int64 struct{ v int32 }\n",
            "at/main.go": """
            package main

            import (
            \t"at/atomic"
            \tsa "sync/atomic"
            \t"sync"
            \t_ "embed"
            )

            type S struct {
            \ta atomic.Bool
            \tb atomic.Bool
            \tc atomic.Int64
            }

            type R struct {
            \ta sa.Bool
            \tp sa.Pointer[int]
            \tw sync.WaitGroup
            }
            """,
        ], paths: ["at/main.go"])
        XCTAssertNil(r["S"]?.size)
        XCTAssertEqual(r["S"]?.fields.first?.unknown, "type atomic.Bool from package \"at/atomic\" (not analyzed)")
        // Go: Sizeof(R) = 32, Offsetof(R.p) = 8, Offsetof(R.w) = 16.
        XCTAssertEqual(r["R"]?.size, 32)
        XCTAssertEqual(r["R"]?.fields.map(\.offset), [0, 8, 16])
    }

    func testRuntimeInternalAtomicAndDotImports() throws {
        let r = try reports("""
        package p
        import "runtime/internal/atomic"
        type A struct {
            a atomic.Bool
            b atomic.Bool
            c atomic.Int32
        }
        """)
        XCTAssertEqual(r["A"]?.size, 8)  // Bool is a Uint8 in runtime/internal/atomic
        let d = try reports("package p\nimport . \"sync/atomic\"\ntype D struct {\n\ta Int64\n\tb Bool\n}\n")
        XCTAssertEqual(d["D"]?.size, 16)
        let u = try reports("package p\nimport . \"x/y\"\ntype U struct {\n\ta Thing\n}\n")
        XCTAssertNil(u["U"]?.size)
        let n = try reports("package p\ntype N struct {\n\ta atomic.Bool\n}\n")
        XCTAssertEqual(n["N"]?.fields.first?.unknown, "atomic.Bool: no import of the file is named atomic")
    }

    func reports(_ source: String) throws -> [String: StructReport] {
        let decls = try GoFrontEnd.structs(files: [("z.go", source)])
        return Dictionary(uniqueKeysWithValues: decls.map { ($0.name, StructReport($0)) })
    }
}
