import Foundation
import Testing

/// `flint bench --profile` against `flint emulate`: the schedule each profile form makes, open-loop arrivals
/// counted second by second with nothing lost, throttles reported as such, the chart written, bad profiles refused.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct LoadProfileTests {
        static func bench(
            _ port: Int, _ function: String, _ arguments: [String]
        ) throws -> (
            status: Int32, output: String, error: String
        ) {
            try PackageTests.run(
                [CLITests.flint, "bench", "--url", "http://127.0.0.1:\(port)", "--function", function] + arguments)
        }

        /// The per-second rows: second → (arrivals, completions, environments, cold, throttled, errors, lost).
        static func rows(_ output: String) -> [[Int]] {
            output.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count == 10, Int(fields[0]) != nil else { return nil }
                return fields.prefix(8).compactMap { Int($0) }
            }
        }

        @Test func openLoopArrivalsFollowTheProfileAndNothingIsLost() throws {
            let (emulator, port, _) = try CLITests.startEmulator(["echo", "--quiet", "--no-resource-limits"])
            defer {
                emulator.terminate()
                emulator.waitUntilExit()
            }
            let chart = NSTemporaryDirectory() + "flint-bench-\(UUID().uuidString).svg"
            let steady = try Self.bench(port, "echo", ["--profile", "steady:20/2s", "--chart", chart])
            #expect(steady.status == 0, "\(steady.output)\(steady.error)")
            #expect(
                steady.output.contains("40 scheduled, 40 answered, 0 throttled (429), 0 errors, lost 0, not echoed 0"))
            let rows = Self.rows(steady.output)
            #expect(rows.count >= 2 && rows[0][1] == 20 && rows[1][1] == 20, "\(steady.output)")
            #expect(try String(contentsOfFile: chart, encoding: .utf8).contains("arrivals/s"))

            let ramp = try Self.bench(port, "echo", ["--profile", "ramp:0-40/4s"])
            #expect(ramp.output.contains("80 requests over 4 s") && ramp.status == 0, "\(ramp.output)")
            #expect(Self.rows(ramp.output).prefix(4).map { $0[1] } == [5, 15, 25, 35])
            let spike = try Self.bench(port, "echo", ["--profile", "spike:4-40/5s"])
            #expect(Self.rows(spike.output).prefix(5).map { $0[1] } == [4, 4, 40, 4, 4], "\(spike.output)")
            let file = NSTemporaryDirectory() + "flint-rates-\(UUID().uuidString).txt"
            try "# per-second rates\n3\n7\n".write(toFile: file, atomically: true, encoding: .utf8)
            let fromFile = try Self.bench(port, "echo", ["--profile", file])
            #expect(fromFile.output.contains("10 requests over 2 s") && fromFile.status == 0, "\(fromFile.output)")
        }

        @Test func throttlesAreCountedNotLost() throws {
            let (emulator, port, _) = try CLITests.startEmulator([
                "probe", "--quiet", "--no-resource-limits", "--max-concurrency", "1", "--on-throttle", "reject",
            ])
            defer {
                emulator.terminate()
                emulator.waitUntilExit()
            }
            let result = try Self.bench(port, "probe", ["--profile", "steady:20/2s", "--event", #"{"sleep_ms":150}"#])
            #expect(result.status == 0, "throttles by choice are not a failure: \(result.output)")
            let summary =
                result.output.split(separator: "\n").first { $0.contains("scheduled,") }.map(String.init) ?? ""
            #expect(summary.contains("lost 0") && !summary.contains(" 0 throttled"), "\(summary)")
        }

        @Test func badProfilesGetOneLine() throws {
            for profile in ["ramp:0-200", "burst:5/2s", "steady:-1/5s", "/nonexistent/rates"] {
                let result = try Self.bench(1, "echo", ["--profile", profile])
                #expect(
                    result.status != 0 && result.error.contains("is not steady:R/Ts, ramp:A-B/Ts"), "\(result.error)")
            }
        }
    }
}
