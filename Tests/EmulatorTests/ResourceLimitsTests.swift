import Emulator
import FlintJSON
import Foundation
import Testing

/// Lambda's resource model in the emulator (root and a writable cgroup hierarchy; skipped visibly elsewhere):
/// CPU in proportion to memory, the memory ceiling and `Runtime.OutOfMemory`, the encoder pool's size, and a
/// chrooted task root that is read-only with a writable /tmp.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct ResourceLimitsTests {
        static let cgroupsWritable =
            getuid() == 0
            && (FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/cpu")
                || FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers"))

        static func probe(_ name: String, memory: Int) -> FunctionDefinition {
            var definition = EmulatorHarness.function(name, handler: "probe", timeout: .seconds(30))
            definition.memoryMegabytes = memory
            return definition
        }

        static func limited(_ functions: [FunctionDefinition]) async throws -> EmulatorHarness {
            let harness = try await EmulatorHarness(functions) { $0.resourceLimits = true }
            #expect(
                harness.emulator.resourceLimitsUnavailable == nil, "\(harness.emulator.resourceLimitsUnavailable ?? "")"
            )
            return harness
        }

        @Test(.enabled(if: cgroupsWritable, "needs root and a writable cgroup hierarchy"))
        func cpuFollowsMemory() async throws {
            let emulator = try await Self.limited([Self.probe("full", memory: 1769), Self.probe("half", memory: 885)])
            var ratios: [Double] = []
            for _ in 0..<3 {
                let full = try #require(try await emulator.invoke("full", #"{"cpu_work":150}"#).json)
                let half = try #require(try await emulator.invoke("half", #"{"cpu_work":150}"#).json)
                let (fullWall, halfWall) = (full["milliseconds"]!.number!, half["milliseconds"]!.number!)
                // Half a CPU can never run the loop faster than half its wall time, however idle the machine.
                #expect(half["cpu_milliseconds"]!.number! / halfWall <= 0.6, "\(half)")
                ratios.append(halfWall / fullWall)
            }
            let median = ratios.sorted()[1]
            // Other suites run at the same time and may slow the full-CPU side, hence the loose lower bound.
            #expect(median >= 1.3 && median <= 3.0, "885 MB takes about twice as long as 1,769 MB: \(ratios)")
            let small = try #require(try await emulator.invoke("half", #"{"workers":true}"#).json)
            #expect(small["workers"]?.integer == 1)
            try await emulator.stop()
        }

        @Test(.enabled(if: cgroupsWritable, "needs root and a writable cgroup hierarchy"))
        func overTheMemoryLimitIsOutOfMemoryAndTheNextEnvironmentWorks() async throws {
            let emulator = try await Self.limited([Self.probe("tiny", memory: 128)])
            let killed = try await emulator.invoke("tiny", #"{"allocate_mb":200}"#, headers: ["X-Amz-Log-Type": "Tail"])
            #expect(killed.json?["errorType"] == .string("Runtime.OutOfMemory"), "\(killed.text)")
            let message = killed.json?["errorMessage"]?.string ?? ""
            #expect(
                message.hasPrefix("RequestId: ")
                    && message.hasSuffix("Error: Runtime exited with error: signal: killed"))
            let log = String(
                decoding: Data(base64Encoded: killed.header("X-Amz-Log-Result") ?? "") ?? Data(), as: UTF8.self)
            #expect(log.contains("Status: error\tError Type: Runtime.OutOfMemory"), "\(log)")
            #expect(log.contains("Max Memory Used: 128 MB"), "\(log)")
            let after = try await emulator.invoke("tiny", #"{"allocate_mb":50}"#)
            #expect(
                after.json?["allocated_mb"]?.integer == 50,
                "a new environment serves the next invocation: \(after.text)")
            let stats = try await emulator.stats("tiny")
            #expect(stats["coldStarts"]?.integer == 2, "\(stats)")
            try await emulator.stop()
        }

        @Test(
            .enabled(
                if: PackageTests.isRoot && PackageTests.releaseBootstrap != nil && PackageTests.unzip,
                "needs root, unzip and FLINT_RELEASE_BOOTSTRAP (deploy/test sets them up)"))
        func aChrootedTaskRootIsReadOnlyAndTmpIsWritable() async throws {
            let (zip, _) = try PackageTests.package(["probe", "--bootstrap", PackageTests.releaseBootstrap!])
            let (root, cleanup) = try PackageTests.sandbox(zip, shell: false)
            defer { cleanup() }
            let (process, port, _) = try CLITests.startEmulator(["probe", "--quiet", "--chroot", root])
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            func write(_ path: String) async throws -> JSONValue? {
                try JSONValue(
                    parsing: Array(try await EnvironmentIsolationTests.invoke(port, "probe", #"{"write":"\#(path)"}"#)))
            }
            let task = try await write("/var/task/new-file")
            #expect(
                task?["written"] == .bool(false) && task?["error"] == .string("Read-only file system"),
                "\(String(describing: task))")
            let temporary = try await write("/tmp/new-file")
            #expect(temporary?["written"] == .bool(true), "\(String(describing: temporary))")
            let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
            #expect(mounts.contains("tmpfs \(root)/tmp tmpfs"), "a tmpfs at DIR/tmp")
            process.terminate()
            process.waitUntilExit()
            let after = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
            #expect(!after.contains("\(root)/tmp") && !after.contains("\(root)/var/task"), "unmounted when it stops")
        }
    }
}
