// swift-tools-version:6.1
import PackageDescription

// Linux only: Flint serves Lambda's Linux environments and its emulator runs them as Linux processes (cgroups,
// chroot, /proc, epoll through SwiftNIO's Linux paths), so there is no macOS build. Modules are split by dependency
// weight: `LambdaRuntime` (libcurl and FlintJSON, no Foundation at all) knows
// nothing of models; the functions sit on top; `bootstrap` is a thin main.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Numeric modules are optimised in debug builds too, so tests that quantize and run a real model stay fast.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "flint",
    products: [
        .executable(name: "bootstrap", targets: ["bootstrap"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
        .library(name: "LambdaCodable", targets: ["LambdaCodable"]),
        .executable(name: "flint", targets: ["flint"]),
    ],
    dependencies: [
        // Dev-tool dependencies only: the emulator and the CLI. The bootstrap's dependency closure stays libcurl.
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
    ],
    targets: [
        // Shims over libcurl's variadic API, which Swift cannot call directly.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // A strict JSON parser and writer with no Foundation: the bootstrap cannot afford FoundationEssentials'
        // 7 MB, yet every function reads JSON.
        .target(name: "FlintJSON", swiftSettings: strict),
        // POSIX helpers every layer shares (writing a whole buffer, threads, I/O priority), with no dependency but
        // their C shim.
        .target(name: "CFlintSystem"),
        .target(name: "FlintSystem", dependencies: ["CFlintSystem"], swiftSettings: strict),
        // The BERT WordPiece tokenizer with its own Unicode tables; no Foundation, no Lambda.
        .target(
            name: "WordPiece",
            exclude: ["Generated/generate_unicode_tables.py"],
            swiftSettings: strict
        ),
        // The compute kernels: a scalar reference and one file per instruction set (AVX2, AVX-512 VNNI, NEON),
        // chosen at start-up.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        // What only the kernel tests and benchmarks call (one path at a time); defined in CKernels.
        .target(name: "CKernelsTesting", dependencies: ["CKernels"]),
        // The model file: format, mapped reader, writer, safetensors reader and quantizer; no Lambda.
        .target(
            name: "FlintModel",
            dependencies: ["WordPiece", "FlintJSON", "FlintSystem"],
            exclude: ["ModelFormat.md"],
            swiftSettings: strict + optimized
        ),
        // The encoder forward pass (int8 fast path and f32 reference) over a model file; no Lambda.
        .target(
            name: "Embedder",
            dependencies: ["CKernels", "FlintModel", "WordPiece", "FlintJSON"],
            swiftSettings: strict + optimized
        ),
        .target(
            name: "LambdaRuntime",
            dependencies: ["CCurl", "FlintJSON", "FlintSystem"],
            swiftSettings: strict
        ),
        // The Codable adapter; it needs FoundationEssentials' JSON coders, so functions opt in to its weight.
        .target(
            name: "LambdaCodable",
            dependencies: ["LambdaRuntime"],
            swiftSettings: strict
        ),
        // Every deployable function, one folder each, plus the registry that maps `_HANDLER` to a handler.
        .target(
            name: "Functions",
            dependencies: ["LambdaRuntime", "FlintJSON", "FlintSystem", "Embedder", "FlintModel", "WordPiece", "CKernels"],
            path: "functions",
            exclude: ["echo/function.json", "probe/function.json", "embed/function.json", "search/function.json", "search/corpus.jsonl", "classify/function.json", "rerank/function.json"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bootstrap",
            dependencies: ["LambdaRuntime", "Functions"],
            path: "bootstrap",
            swiftSettings: strict
        ),
        // Starting an environment's process: fork and exec with every other descriptor closed, a parent-death signal
        // and its cgroups joined before it runs.
        .target(name: "CSpawn"),
        // The local Lambda service: Invoke API for callers, one Runtime API endpoint per execution environment.
        // Plain SwiftNIO on one event loop: no thread hop between a caller's connection and a runtime's.
        .target(
            name: "Emulator",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "FlintJSON", "FlintSystem", "CSpawn",
            ],
            swiftSettings: strict
        ),
        // Line charts as SVG for `flint tune` and `flint bench --profile`; no dependency at all.
        .target(name: "FlintCharts", swiftSettings: strict),
        // The developer CLI: `flint emulate`, `bench`, `tune`, `quantize`, `inspect`, `tokenize`, `embed`, `rerank`,
        // `classify`, `index`, `eval`.
        .executableTarget(
            name: "flint",
            dependencies: ["Emulator", "FlintJSON", "FlintModel", "FlintSystem", "WordPiece", "Embedder", "Functions", "LambdaRuntime", "FlintCharts",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // Benchmarks, run by hand (see BENCHMARKS.md); never part of the tests.
        .executableTarget(
            name: "flint-runtime-bench",
            path: "Benchmarks/RuntimeBench"
        ),
        .executableTarget(
            name: "flint-tokenizer-bench",
            dependencies: ["WordPiece", "FlintJSON"],
            path: "Benchmarks/TokenizerBench"
        ),
        .executableTarget(
            name: "flint-encoder-bench",
            dependencies: ["Embedder", "FlintModel", "WordPiece", "CKernels"],
            path: "Benchmarks/EncoderBench"
        ),
        .executableTarget(
            name: "flint-model-open-bench",
            dependencies: ["FlintModel", "WordPiece"],
            path: "Benchmarks/ModelOpenBench"
        ),
        // What several test targets share (locating the pip package's real weights); never shipped.
        .target(name: "TestSupport", dependencies: ["FlintSystem"], path: "Tests/TestSupport"),
        .testTarget(
            name: "LambdaRuntimeTests",
            dependencies: ["LambdaRuntime", "LambdaCodable", "FlintJSON", "Functions", "bootstrap"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EmulatorTests",
            dependencies: ["TestSupport", "Emulator", "FlintJSON", "FlintModel", "WordPiece", "bootstrap", "flint",
                           .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ChartTests",
            dependencies: ["FlintCharts"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WordPieceTests",
            dependencies: ["TestSupport", "WordPiece", "FlintJSON"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlintModelTests",
            dependencies: ["TestSupport", "FlintModel", "FlintSystem", "WordPiece", "FlintJSON", "flint"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KernelTests",
            dependencies: ["CKernels", "CKernelsTesting"],
            exclude: ["CrossChecks"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EmbedderTests",
            dependencies: ["TestSupport", "Embedder", "FlintModel", "FlintJSON", "WordPiece"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        // The functions in-process: event shapes, routes, errors, streaming decisions, SQS, configuration.
        .testTarget(
            name: "FunctionsTests",
            dependencies: ["TestSupport", "Functions", "LambdaRuntime", "FlintJSON", "FlintModel", "Embedder"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FlintJSONTests",
            dependencies: ["FlintJSON"],
            swiftSettings: strict
        ),
    ]
)

// libFuzzer targets, only when Tests/Fuzz/run builds them (they need -sanitize=fuzzer to link).
if Context.environment["FLINT_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "ModelFileFuzz", dependencies: ["FlintModel", "WordPiece", "Embedder"], path: "Tests/Fuzz/ModelFileFuzz"),
        .executableTarget(name: "TokenizerFuzz", dependencies: ["WordPiece"], path: "Tests/Fuzz/TokenizerFuzz"),
    ]
}
