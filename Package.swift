// swift-tools-version:6.2
//
// swift-go-runtime: Go's runtime (allocator, G-P-M scheduler, garbage collector) in Swift for Linux.
// Module map (dependencies point downward only):
//   gort ──► GoLayout, GoSched, GoAlloc
//   GoMalloc (libGoMalloc.so) ──► GoAlloc ──► CGoRuntime
//   GoSched ──► GoAlloc
import PackageDescription

/// Absolute path of the package root, so linker scripts resolve whatever the linker's working directory is.
let packageRoot = String(#filePath.dropLast("Package.swift".count))

/// The allocator and everything malloc can reach is always compiled optimized: `-Onone` code traps on
/// checked arithmetic and costs 250+ ns per call (feasibility probe). Tests still run against this code.
let runtimeSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-O", "-enforce-exclusivity=unchecked"]),
]

/// GoAlloc and GoMalloc also drop the implicit `_Concurrency` / `_StringProcessing` imports: the allocator uses
/// neither, and without their autolink entries libGoMalloc.so does not load libswift_Concurrency, libdispatch,
/// libswift_StringProcessing and libswift_RegexParser into every program it is preloaded into (3.6 MB less RSS
/// for a one-malloc C program, measured: 9.0 -> 5.4 MB with huge pages off).
let allocatorSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-O", "-enforce-exclusivity=unchecked",
                  "-Xfrontend", "-disable-implicit-concurrency-module-import",
                  "-Xfrontend", "-disable-implicit-string-processing-module-import"]),
]

/// The runtime libraries and their programs use no regex: without the implicit `_StringProcessing` import they
/// do not autolink libswift_StringProcessing and libswift_RegexParser (about 1 MiB of RSS in every process).
let noStringProcessing: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"]),
]

let package = Package(
    name: "swift-go-runtime",
    products: [
        .library(name: "GoAlloc", targets: ["GoAlloc"]),
        // libGoMalloc.so: the drop-in malloc. Only this product links GoMallocExports (the C names).
        .library(name: "GoMalloc", type: .dynamic, targets: ["GoMalloc"]),
        .library(name: "GoLayout", targets: ["GoLayout"]),
        .library(name: "GoSched", targets: ["GoSched"]),
        .library(name: "GoGC", targets: ["GoGC"]),
        .executable(name: "gort", targets: ["gort"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
    ],
    targets: [
        // Thread-local slot, futex, atomics and a few syscall shims: what Swift cannot spell. No logic.
        .target(
            name: "CGoRuntime",
            cSettings: [.unsafeFlags(["-O2"])]
        ),
        .target(
            name: "GoAlloc",
            dependencies: ["CGoRuntime"],
            swiftSettings: allocatorSwiftSettings
        ),
        // The C names (malloc, free, ...) forwarding to GoMalloc's Swift entry points. Compiled -fno-builtin
        // so the compiler cannot turn our own calls back into calls to malloc.
        .target(
            name: "GoMallocExports",
            cSettings: [.unsafeFlags(["-O2", "-fno-builtin"])]
        ),
        .target(
            name: "GoMalloc",
            dependencies: ["CGoRuntime", "GoMallocExports"],
            exclude: ["exports.map", "GoAlloc/SizeClassGenerator.swift"],
            swiftSettings: allocatorSwiftSettings + [.enableExperimentalFeature("Embedded"), .unsafeFlags(["-wmo", "-Xcc", "-momit-leaf-frame-pointer"])],
            linkerSettings: [
                // -Bsymbolic: calls inside the library (malloc -> gomalloc_malloc) bind locally, not through the PLT.
                .unsafeFlags(["-Xlinker", "--version-script=\(packageRoot)Sources/GoMalloc/exports.map",
                              "-Xlinker", "-Bsymbolic"]),
            ]
        ),
        .target(
            name: "GoLayout",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftParser", package: "swift-syntax"),
            ]
        ),
        .target(
            name: "GoSched",
            dependencies: ["GoAlloc", "CGoRuntime"],
            swiftSettings: runtimeSwiftSettings + noStringProcessing
        ),
        // Cross-module optimization: clients (the Scheme, bench-gc) inline and specialize the allocation,
        // field access and shadow-stack fast paths instead of calling unspecialized generic entry points.
        .target(
            name: "GoGC",
            dependencies: ["GoAlloc", "GoSched", "CGoRuntime"],
            swiftSettings: runtimeSwiftSettings + noStringProcessing + [.unsafeFlags(["-cross-module-optimization"])]
        ),
        // A small Scheme whose values live in GoGC: the collector's real client.
        .executableTarget(
            name: "gort-scheme",
            dependencies: ["GoGC"],
            path: "Examples/Scheme",
            exclude: ["tests"],
            swiftSettings: [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])]
        ),
        .executableTarget(
            name: "gort",
            dependencies: [
                "GoAlloc", "GoLayout", "GoSched", "GoGC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmark programs (run by `gort bench ...`, never by the tests).
        .executableTarget(name: "bench-swift-alloc", path: "Benchmarks/alloc/swift"),
        .executableTarget(name: "bench-gc", dependencies: ["GoGC"], path: "Benchmarks/gc/swift",
                          swiftSettings: [.unsafeFlags(["-O"])] + noStringProcessing),
        .executableTarget(name: "bench-sched", dependencies: ["GoSched"], path: "Benchmarks/sched/swift",
                          swiftSettings: [.unsafeFlags(["-O"])]),
        .testTarget(name: "GoAllocTests", dependencies: ["GoAlloc"]),
        .testTarget(name: "GoMallocTests", dependencies: ["GoAlloc"]),
        .testTarget(name: "GoLayoutTests", dependencies: ["GoLayout"]),
        .testTarget(name: "GoSchedTests", dependencies: ["GoSched"]),
        .testTarget(name: "GoGCTests", dependencies: ["GoGC"]),
    ],
    swiftLanguageModes: [.v5]
)
