import FlintJSON
import Foundation
import Testing

/// `flint tune` against the probe, whose work is known: a CPU-bound loop takes about twice as long at half a CPU,
/// the cost is the price file's formula over the REPORT lines' billed durations, an allocation over the memory size
/// is a result (`Runtime.OutOfMemory`), never a recommendation. Needs root and a writable cgroup hierarchy.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct TuneTests {
        static func tune(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
            try PackageTests.run(
                [CLITests.flint, "tune", "probe"] + arguments + [
                    "--bootstrap", EmulatorHarness.bootstrap, "--functions-dir", "\(CLITests.repository)/functions",
                    "--prices", "\(CLITests.repository)/deploy/lambda-prices.json", "--json",
                ])
        }

        @Test(.enabled(if: ResourceLimitsTests.cgroupsWritable, "needs root and a writable cgroup hierarchy"))
        func costAndLatencyFollowTheKnownWork() throws {
            let chart = NSTemporaryDirectory() + "flint-tune-\(UUID().uuidString).svg"
            let result = try Self.tune([
                "--event", #"{"cpu_work":40}"#, "--memory", "885,1769", "-n", "8", "--cold", "2", "--chart", chart,
            ])
            #expect(result.status == 0, "\(result.error)")
            let report = try JSONValue(parsing: result.output)
            let sizes = try #require(report["sizes"]?.array)
            #expect(sizes.count == 2)
            let prices = try #require(report["prices"])
            let perGBSecond = try #require(prices["perGBSecond"]?.number)
            let perMillion = try #require(prices["perMillionRequests"]?.number)
            for size in sizes {
                #expect(size["errors"] == .object([:]), "\(size)")
                #expect(size["invocations"]?.integer == 10)
                let memory = Double(size["memoryMB"]!.integer!), billed = try #require(size["meanBilledMs"]?.number)
                let expected = 1_000_000 * memory / 1024 * billed / 1000 * perGBSecond + perMillion
                #expect(abs(size["costPerMillion"]!.number! - expected) <= expected * 1e-9, "the price file's formula")
                #expect((size["initMs"]?.number ?? 0) > 0 && (size["firstResponseMs"]?.number ?? 0) > 0)
                #expect((size["peakMemoryMB"]?.number ?? 0) > 0)
            }
            #expect(sizes[0]["cpuShare"]!.number! < 0.51 && sizes[1]["cpuShare"]!.number! > 0.99)
            let ratio = sizes[0]["p50Ms"]!.number! / sizes[1]["p50Ms"]!.number!
            #expect(ratio >= 1.3 && ratio <= 3.0, "half a CPU takes about twice as long: \(ratio)")
            #expect(report["recommendation"]?["fastest"]?.integer == 1769)
            let svg = try String(contentsOfFile: chart, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("cost (right axis)") && svg.contains("885"))
        }

        @Test(.enabled(if: ResourceLimitsTests.cgroupsWritable, "needs root and a writable cgroup hierarchy"))
        func anOutOfMemorySizeIsAResultNotARecommendation() throws {
            let result = try Self.tune([
                "--event", #"{"allocate_mb":200}"#, "--memory", "128,512", "-n", "3", "--cold", "1",
            ])
            #expect(result.status == 0, "\(result.error)")
            let report = try JSONValue(parsing: result.output)
            let sizes = try #require(report["sizes"]?.array)
            #expect((sizes[0]["errors"]?["Runtime.OutOfMemory"]?.integer ?? 0) == 4, "\(sizes[0])")
            #expect(sizes[0]["costPerMillion"] == .null && sizes[1]["errors"] == .object([:]))
            #expect(report["recommendation"]?["cheapest"]?.integer == 512)
            #expect(report["recommendation"]?["balanced"]?.integer == 512)
        }

        @Test func badArgumentsGetOneLine() throws {
            let memory = try Self.tune(["--event", "{}", "--memory", "64"])
            #expect(memory.status != 0 && memory.error.contains("--memory takes sizes from 128 to 10240 MB"))
            let event = try Self.tune(["--event", "{not json"])
            #expect(event.status != 0 && event.error.contains("--event must be JSON or a file holding JSON"))
        }
    }
}
