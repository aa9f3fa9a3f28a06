import FlintJSON
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `flint` CLI as users run it: `flint emulate` stopped by SIGTERM, and `flint bench` against it.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(2)))
    struct CLITests {
        static let flint = URL(fileURLWithPath: EmulatorHarness.bootstrap).deletingLastPathComponent()
            .appendingPathComponent("flint").path
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        /// Starts `flint emulate` on a free port (running `bootstrap` in each environment) and returns the process and
        /// its port once it serves.
        static func startEmulator(
            _ arguments: [String], bootstrap: String = EmulatorHarness.bootstrap
        ) throws -> (Process, Int, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: flint)
            process.arguments =
                ["emulate"] + arguments + [
                    "--bootstrap", bootstrap, "--port", "0", "--functions-dir", "\(repository)/functions",
                ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var seen = ""
            while !seen.contains("\n"), let chunk = try output.fileHandleForReading.read(upToCount: 1), !chunk.isEmpty {
                seen += String(decoding: chunk, as: UTF8.self)
            }
            let port = Int(seen.split(separator: ":").last?.prefix { $0.isNumber } ?? "") ?? 0
            return (process, port, output)
        }

        @Test func sigtermStopsTheEmulatorAndEveryEnvironment() async throws {
            let (process, port, output) = try Self.startEmulator(["probe", "echo", "--max-concurrency", "2"])
            #expect(port > 0)
            var request = URLRequest(
                url: URL(string: "http://127.0.0.1:\(port)/2015-03-31/functions/probe/invocations")!)
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"context":true}"#.utf8)
            let (data, _) = try await URLSession.shared.data(for: request)
            let pid = try #require(try JSONValue(parsing: Array(data))["pid"]?.integer)
            #expect(kill(Int32(pid), 0) == 0)

            process.terminate()  // SIGTERM
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(kill(Int32(pid), 0) != 0, "the environment's process is gone, not orphaned")
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(printed.contains("REPORT RequestId:"))
            #expect(printed.contains("Memory Size: 128 MB"), "settings come from functions/probe/function.json")
        }

        @Test func benchCountsEveryResponseExactlyOnce() async throws {
            let (emulator, port, _) = try Self.startEmulator(["echo", "--quiet"])
            defer {
                emulator.terminate()
                emulator.waitUntilExit()
            }
            let bench = Process()
            bench.executableURL = URL(fileURLWithPath: Self.flint)
            bench.arguments = [
                "bench", "--url", "http://127.0.0.1:\(port)", "--function", "echo", "-n", "400", "-c", "4",
            ]
            let output = Pipe()
            bench.standardOutput = output
            try bench.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            bench.waitUntilExit()
            #expect(bench.terminationStatus == 0, "flint bench said: \(text)")
            #expect(text.contains("function errors 0, HTTP errors 0, lost 0, duplicated 0, not echoed 0"))
            #expect(
                text.contains("cold starts 4") || text.contains("cold starts 3") || text.contains("cold starts 2")
                    || text.contains("cold starts 1"))
        }

        @Test func deployInvokePrintsResponsesAndErrors() throws {
            let (emulator, port, _) = try Self.startEmulator(["probe", "--quiet"])
            defer {
                emulator.terminate()
                emulator.waitUntilExit()
            }
            func invoke(_ arguments: [String]) -> (Int32, String, String) {
                RealClientTests.run(
                    ["\(Self.repository)/deploy/invoke"] + arguments,
                    environment: ["FLINT_ENDPOINT": "http://127.0.0.1:\(port)"])
            }
            let ok = invoke(["probe", #"{"a":1}"#])
            #expect(ok.0 == 0 && ok.1 == "{\"a\":1}\n")
            let failed = invoke(["probe", #"{"fail":"bad","type":"Nope"}"#])
            #expect(failed.0 == 1)
            #expect(failed.2.contains("Function.Nope"))
            let missing = invoke(["missing", "{}"])
            #expect(missing.0 == 2)
            #expect(missing.2.contains("HTTP 404 ResourceNotFoundException"))
        }

        @Test func badFlagsGetOneClearLine() throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.flint)
            process.arguments = ["emulate", "echo", "--on-throttle", "drop", "--bootstrap", EmulatorHarness.bootstrap]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(text.contains("--on-throttle must be queue or reject, not 'drop'"))
        }
    }
}
