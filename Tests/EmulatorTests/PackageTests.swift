import Emulator
import FlintJSON
import Foundation
import Testing

/// deploy/package: the zip is self-contained. Each test unzips a package into an empty root (plus /proc, which
/// Lambda's sandbox has and the Swift runtime reads at start, and a static /bin/sh for the script of the fallback
/// layout), enters it with chroot, and serves invocations from it under the emulator on loopback.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(5)))
    struct PackageTests {
        static let isRoot = getuid() == 0
        static let releaseBootstrap = ProcessInfo.processInfo.environment["FLINT_RELEASE_BOOTSTRAP"]
        static let busybox = ["/bin/busybox", "/usr/bin/busybox"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        static let unzip = FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")

        static func run(
            _ arguments: [String], environment: [String: String] = [:]
        ) throws -> (status: Int32, output: String, error: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: CLITests.repository)
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            try process.run()
            let errorData = error.fileHandleForReading.readDataToEndOfFile()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text, String(decoding: errorData, as: UTF8.self))
        }

        /// Packages `function`; returns the zip path (the script's last line) and its standard error.
        static func package(_ arguments: [String]) throws -> (zip: String, log: String) {
            let result = try run(["deploy/package"] + arguments)
            #expect(result.status == 0, "deploy/package failed: \(result.error)")
            return (result.output.split(separator: "\n").last.map(String.init) ?? "", result.error)
        }

        /// An empty root with the zip in var/task and /proc mounted; `cleanup` unmounts and removes it.
        static func sandbox(_ zip: String, shell: Bool) throws -> (root: String, cleanup: () -> Void) {
            let root = NSTemporaryDirectory() + "flint-chroot-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root + "/var/task", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
            #expect(try run(["unzip", "-q", zip, "-d", root + "/var/task"]).status == 0)
            if shell, let busybox {
                try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: busybox, toPath: root + "/bin/sh")
            }
            let mounted = try run(["mount", "-t", "proc", "proc", root + "/proc"])
            #expect(mounted.status == 0, "mount /proc: \(mounted.error)")
            return (
                root,
                {
                    _ = try? run(["umount", root + "/proc"])
                    try? FileManager.default.removeItem(atPath: root)
                }
            )
        }

        static func chrooted(
            _ name: String, handler: String, root: String, timeout: Duration = .seconds(20)
        ) -> FunctionDefinition {
            var definition = FunctionDefinition(
                name: name, executable: "/usr/sbin/chroot", arguments: [root, "/var/task/bootstrap"],
                handler: handler, taskRoot: root + "/var/task", timeout: timeout)
            definition.runtimeTaskRoot = "/var/task"
            return definition
        }

        @Test(
            .enabled(
                if: isRoot && releaseBootstrap != nil && unzip && SearchClassifyTests.miniLM != nil,
                "needs root, unzip, FLINT_RELEASE_BOOTSTRAP and the MiniLM weights (deploy/test sets them up)"))
        func staticPackageServesEmbedFromAnEmptyRoot() async throws {
            let (zip, log) = try Self.package([
                "embed", "--bootstrap", Self.releaseBootstrap!, "--model", SearchClassifyTests.miniLM!,
            ])
            #expect(zip.hasSuffix(".build/lambda/embed.zip") && log.contains("fully static"), "\(log)")
            #expect(log.contains("embed (x86_64, static layout)") || log.contains("embed (arm64, static layout)"))
            let listing = try Self.run(["unzip", "-Z1", zip]).output.split(separator: "\n")
            #expect(listing == ["bootstrap", "function.json", "model.flint"], "sorted entries, nothing else")
            let modes = try Self.run(["unzip", "-Z", zip]).output
            #expect(
                modes.contains("-rwxr-xr-x") && modes.contains("80-Jan-01 00:00"),
                "executable bootstrap, fixed timestamps")
            // Deterministic: the same inputs give the same bytes.
            let first = try Data(contentsOf: URL(fileURLWithPath: zip))
            _ = try Self.package([
                "embed", "--bootstrap", Self.releaseBootstrap!, "--model", SearchClassifyTests.miniLM!,
            ])
            #expect(try Data(contentsOf: URL(fileURLWithPath: zip)) == first)

            let (root, cleanup) = try Self.sandbox(zip, shell: false)
            defer { cleanup() }
            #expect(
                !FileManager.default.fileExists(atPath: root + "/bin")
                    && !FileManager.default.fileExists(atPath: root + "/lib"))
            let emulator = try await EmulatorHarness([Self.chrooted("embed", handler: "embed", root: root)])
            let reply = try #require(
                try await emulator.invoke(
                    "embed", #"{"input":["a dog runs in the park","a puppy plays outside","the tax deadline moved"]}"#
                ).json)
            let vectors = (reply["data"]?.array ?? []).map { ($0["embedding"]?.array ?? []).compactMap(\.number) }
            #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 384 }, "\(reply)")
            func cosine(_ a: [Double], _ b: [Double]) -> Double { Swift.zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(
                cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2,
                "the model works inside the chroot")
            let bad = try await emulator.invoke("embed", #"{"input":[]}"#)
            #expect(bad.json?["errorType"] == .string("Function.InvalidInput"))
            try await emulator.stop()
        }

        @Test(
            .enabled(
                if: isRoot && busybox != nil && unzip,
                "needs root, unzip and busybox-static (deploy/test installs them)"))
        func fallbackLayoutBundlesGlibcAndServesFromAnEmptyRoot() async throws {
            // The debug bootstrap links libcurl and the Swift runtime dynamically: the fallback layout.
            let (zip, log) = try Self.package(["echo", "--bootstrap", EmulatorHarness.bootstrap])
            #expect(log.contains("bundled layout") && log.contains("glibc and its loader included"), "\(log)")
            let listing = try Self.run(["unzip", "-Z1", zip]).output.split(separator: "\n").map(String.init)
            #expect(
                listing.contains("bin/bootstrap") && listing.contains("lib/libc.so.6")
                    && listing.contains { $0.hasPrefix("lib/ld-linux") })
            #expect(listing.contains { $0.hasPrefix("lib/libcurl") } && listing.contains("lib/libswiftCore.so"))
            let script = try Self.run(["unzip", "-p", zip, "bootstrap"]).output
            #expect(script.hasPrefix("#!/bin/sh") && script.contains("--library-path"))

            let (root, cleanup) = try Self.sandbox(zip, shell: true)
            defer { cleanup() }
            let emulator = try await EmulatorHarness([Self.chrooted("echo", handler: "echo", root: root)])
            let reply = try await emulator.invoke("echo", #"{"from":"a chroot with only /bin/sh"}"#)
            #expect(reply.status == 200 && reply.text == #"{"from":"a chroot with only /bin/sh"}"#, "\(reply.text)")
            try await emulator.stop()
        }

        @Test func systemLibcPackageIsRefusedNamingTheSymbol() throws {
            let result = try Self.run([
                "deploy/package", "echo", "--bootstrap", EmulatorHarness.bootstrap, "--system-libc",
            ])
            #expect(result.status != 0)
            #expect(result.error.contains("needs a newer glibc than Amazon Linux 2023's 2.34"), "\(result.error)")
            #expect(
                result.error.range(of: #"needs GLIBC_2\.3[5-9]"#, options: .regularExpression) != nil,
                "names a symbol: \(result.error)")
        }

        @Test func packagesOverLambdasLimitsAreRefused() throws {
            // 51 MiB of random bytes does not compress: over the 50 MB direct-upload limit.
            let big = NSTemporaryDirectory() + "flint-big-\(UUID().uuidString).flint"
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<(51 << 20) / 8).map { _ in generator.next() as UInt64 }
            try bytes.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: big)) }
            defer { try? FileManager.default.removeItem(atPath: big) }
            let result = try Self.run([
                "deploy/package", "embed", "--bootstrap", EmulatorHarness.bootstrap, "--model", big,
            ])
            #expect(result.status != 0 && result.error.contains("over Lambda's 50 MB limit"), "\(result.error)")
            let unknown = try Self.run(["deploy/package", "nope"])
            #expect(unknown.status != 0 && unknown.error.contains("no function 'nope'"))
        }
    }
}
