import ArgumentParser
import Emulator
import FlintCharts
import FlintJSON
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `flint tune`: which memory size a function should have, measured locally under Lambda's resource model.
///
/// For each memory size it runs the function in the emulator with that size's CPU share and memory ceiling
/// (cgroups; needs root): `--cold` fresh environments, each timed from the invocation that starts it (init and
/// first response), then `-n` warm invocations on the last one. Durations, billed durations and peak memory come
/// from the REPORT lines, as Lambda bills them; an environment killed for memory is a result (`Runtime.OutOfMemory`
/// in the errors column), not a crash. The cost of a million invocations uses the mean billed duration and the
/// price file's rates.
struct TuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract:
            "Measure a function at several memory sizes under Lambda's limits; print cost and latency and recommend one.",
        discussion: """
            Recommends the cheapest size (lowest cost per million invocations), the fastest (lowest warm p50) and \
            the best balance: the size with the smallest product of its cost over the cheapest cost and its p50 \
            over the fastest p50 (1 × 1 would be both at once). Sizes with errors are never recommended. Prices \
            come from --prices (deploy/lambda-prices.json: region, architecture, the date they were recorded); \
            update that file for your region. Needs root and a writable cgroup hierarchy.
            """
    )

    @Argument(help: "The function (a folder under --functions-dir).")
    var function: String
    @Option(help: "The event: JSON, or a file holding it.")
    var event: String
    @Option(help: "Memory sizes in MB, comma-separated.")
    var memory = "128,256,512,1024,1769,3008"
    @Option(name: [.customShort("n"), .long], help: "Warm invocations per memory size.")
    var count = 200
    @Option(help: "Fresh environments (cold starts) per memory size.")
    var cold = 3
    @Option(help: "x86_64 or arm64: the prices to use (default: this machine's).")
    var arch: String?
    @Option(help: "The price file.")
    var prices = "deploy/lambda-prices.json"
    @Option(help: "Draw cost and latency against memory into this .svg or .html file.")
    var chart: String?
    @Flag(help: "Print the results as one JSON object.")
    var json = false
    @Option(help: "The executable each environment runs.")
    var bootstrap = ".build/lambda/bin/bootstrap"
    @Option(help: "Where function folders and their function.json live.")
    var functionsDir = "functions"
    @Option(name: .customLong("env"), help: "NAME=VALUE for the function's environment (repeatable).")
    var environment: [String] = []

    /// What one memory size measured.
    struct Size {
        let memory: Int
        let cpuShare: Double
        var initMilliseconds: [Double] = []
        var firstResponseMilliseconds: [Double] = []
        var durations: [Double] = []
        var billed: [Double] = []
        var peakMegabytes = 0
        var invocations = 0
        var errors: [String: Int] = [:]
        var errorCount: Int { errors.values.reduce(0, +) }
    }

    func run() async throws {
        let sizes = try memory.split(separator: ",").map { text -> Int in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (128...10_240).contains(value) else {
                throw ValidationError("--memory takes sizes from 128 to 10240 MB, comma-separated, not '\(memory)'")
            }
            return value
        }
        guard !sizes.isEmpty, count >= 1, cold >= 1 else {
            throw ValidationError("--memory needs a size, -n and --cold at least 1")
        }
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            throw ValidationError("no executable at --bootstrap \(bootstrap) (deploy/build-bootstrap builds it)")
        }
        let eventBytes = try Self.event(event)
        var machine = utsname()
        uname(&machine)
        let hostArch = withUnsafeBytes(of: machine.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let architecture = arch ?? (hostArch == "aarch64" ? "arm64" : "x86_64")
        let price = try LambdaPrices(path: prices, architecture: architecture)
        let variables = try EmulateCommand.variables(environment)

        var results: [Size] = []
        for size in sizes {
            if !json { FileHandle.standardError.write(Data("flint tune: \(size) MB…\n".utf8)) }
            let definition = try EmulateCommand.definition(
                for: function, functionsDir: functionsDir, bootstrap: bootstrap, memory: size, variables: variables)
            results.append(
                try await measure(
                    definition, event: eventBytes,
                    cpuShare: ResourceLimits.cpuShare(
                        memoryMegabytes: size, machineCPUs: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))))
        }
        let recommendation = Recommendation(results, price: price)
        if json {
            print(
                String(decoding: report(results, price: price, recommendation: recommendation).jsonBytes, as: UTF8.self)
            )
        } else {
            print(table(results, price: price, recommendation: recommendation))
        }
        if let chart {
            let drawing = Self.chart(results, function: function, price: price, recommendation: recommendation)
            try (chart.hasSuffix(".html") ? drawing.html() : drawing.svg()).write(
                toFile: chart, atomically: true, encoding: .utf8)
            if !json { print("chart: \(chart)") }
        }
    }

    /// The event from `text`: a file's contents when it names one, else the text itself; it must be JSON.
    static func event(_ text: String) throws -> [UInt8] {
        let bytes = FileManager.default.contents(atPath: text).map(Array.init) ?? Array(text.utf8)
        do { _ = try JSONValue(parsing: bytes) } catch {
            throw ValidationError("--event must be JSON or a file holding JSON: \(error)")
        }
        return bytes
    }

    /// Runs one memory size: `cold` fresh emulators, the last one kept for the warm invocations.
    private func measure(_ definition: FunctionDefinition, event: [UInt8], cpuShare: Double) async throws -> Size {
        var size = Size(memory: definition.memoryMegabytes, cpuShare: cpuShare)
        var options = EmulatorOptions()
        options.port = 0
        options.printsLogs = false
        options.resourceLimits = true
        options.maxConcurrency = 1
        for round in 0..<cold {
            let emulator = Emulator(functions: [definition], options: options)
            if let reason = emulator.resourceLimitsUnavailable {
                throw ValidationError(
                    "flint tune needs Lambda's resource limits, and this machine cannot apply them: \(reason)")
            }
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let server = Task {
                try await emulator.run {
                    continuation.yield($0)
                    continuation.finish()
                }
            }
            var port = 0
            for await bound in ports { port = bound }
            defer { emulator.shutDown() }
            let connection = BenchCommand.connect(host: "127.0.0.1", port: port)
            guard connection >= 0 else { throw ValidationError("cannot connect to the emulator on port \(port)") }
            defer { close(connection) }
            let started = Date()
            let first = try invoke(connection, event, into: &size)
            size.firstResponseMilliseconds.append(Date().timeIntervalSince(started) * 1000)
            if let initDuration = first.initMilliseconds { size.initMilliseconds.append(initDuration) }
            if round == cold - 1 {
                for _ in 0..<count {
                    let warm = try invoke(connection, event, into: &size)
                    if let duration = warm.duration, warm.error == nil {
                        size.durations.append(duration)
                        size.billed.append(warm.billed ?? duration.rounded(.up))
                    }
                }
            }
            emulator.shutDown()
            try await server.value
        }
        return size
    }

    /// One invocation with its log tail; its REPORT figures are added to `size`.
    private func invoke(
        _ connection: Int32, _ event: [UInt8], into size: inout Size
    ) throws -> (duration: Double?, billed: Double?, initMilliseconds: Double?, error: String?) {
        guard
            let reply = BenchCommand.request(
                connection, method: "POST", host: "127.0.0.1", path: "/2015-03-31/functions/\(function)/invocations",
                body: event, headers: ["X-Amz-Log-Type": "Tail"])
        else { throw ValidationError("the emulator closed the connection") }
        size.invocations += 1
        let log =
            reply.headers["x-amz-log-result"].flatMap { Data(base64Encoded: $0) }.map {
                String(decoding: $0, as: UTF8.self)
            } ?? ""
        let report = log.split(separator: "\n").last { $0.hasPrefix("REPORT ") }.map(String.init) ?? ""
        func field(_ name: String) -> Double? {
            guard let range = report.range(of: "\t\(name): ") else { return nil }
            return Double(report[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        if let peak = field("Max Memory Used") { size.peakMegabytes = max(size.peakMegabytes, Int(peak)) }
        var error: String? = nil
        if reply.status != 200 || reply.functionError {
            error = (try? JSONValue(parsing: reply.body))?["errorType"]?.string ?? "HTTP \(reply.status)"
            size.errors[error!, default: 0] += 1
        }
        return (field("Duration"), field("Billed Duration"), field("Init Duration"), error)
    }

    /// The recommended sizes among those without errors.
    struct Recommendation {
        var cheapest: Int?
        var fastest: Int?
        var balanced: Int?
        /// Cost per million and p50 by memory size, for sizes without errors.
        var cost: [Int: Double] = [:]
        var p50: [Int: Double] = [:]

        init(_ sizes: [Size], price: LambdaPrices) {
            for size in sizes where size.errorCount == 0 && !size.durations.isEmpty {
                cost[size.memory] = price.perMillion(
                    memoryMegabytes: size.memory, billedMilliseconds: mean(size.billed))
                p50[size.memory] = percentile(size.durations, 0.5)
            }
            guard let minCost = cost.values.min(), let minP50 = p50.values.min() else { return }
            let sizes = cost.keys.sorted()
            cheapest = sizes.min { (cost[$0]!, p50[$0]!) < (cost[$1]!, p50[$1]!) }
            fastest = sizes.min { (p50[$0]!, cost[$0]!) < (p50[$1]!, cost[$1]!) }
            balanced = sizes.min { score($0, minCost, minP50) < score($1, minCost, minP50) }
        }

        func score(_ size: Int, _ minCost: Double, _ minP50: Double) -> Double {
            (cost[size]! / minCost) * (p50[size]! / max(minP50, 1e-9))
        }
    }

    private func table(_ sizes: [Size], price: LambdaPrices, recommendation: Recommendation) -> String {
        var lines = [
            "flint tune \(function): \(cold) fresh environment\(cold == 1 ? "" : "s") and \(count) warm invocations per memory size; "
                + "\(price.architecture) prices for \(price.region), recorded \(price.recorded)",
            "memory  CPU    init ms  first ms   p50 ms   p90 ms   p99 ms  billed ms  peak MB  errors  \(price.currency) per 1M",
            "(MB)    share  (median) (median)                             (mean)",
        ]
        for size in sizes {
            func column(_ value: Double?, _ width: Int, _ digits: Int = 2) -> String {
                let text = value.map { String(format: "%.\(digits)f", $0) } ?? "-"
                return String(repeating: " ", count: max(0, width - text.count)) + text
            }
            let errors = size.errors.isEmpty ? "0" : size.errors.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let warm = size.durations.isEmpty
            lines.append(
                column(Double(size.memory), 6, 0) + column(size.cpuShare, 6)
                    + column(median(size.initMilliseconds), 10, 1)
                    + column(median(size.firstResponseMilliseconds), 10, 1)
                    + column(warm ? nil : percentile(size.durations, 0.5), 9)
                    + column(warm ? nil : percentile(size.durations, 0.9), 9)
                    + column(warm ? nil : percentile(size.durations, 0.99), 9)
                    + column(warm ? nil : mean(size.billed), 11) + column(Double(size.peakMegabytes), 9, 0)
                    + "  " + errors + column(recommendation.cost[size.memory], 12, 4))
        }
        if let cheapest = recommendation.cheapest, let fastest = recommendation.fastest,
            let balanced = recommendation.balanced
        {
            let money = { (size: Int) in String(format: "%.4f", recommendation.cost[size]!) }
            let ms = { (size: Int) in String(format: "%.2f", recommendation.p50[size]!) }
            lines.append(
                "cheapest: \(cheapest) MB (\(money(cheapest)) \(price.currency) per million, p50 \(ms(cheapest)) ms)")
            lines.append(
                "fastest: \(fastest) MB (p50 \(ms(fastest)) ms, \(money(fastest)) \(price.currency) per million)")
            let minCost = recommendation.cost.values.min()!, minP50 = recommendation.p50.values.min()!
            lines.append(
                "balanced: \(balanced) MB (\(money(balanced)) \(price.currency) per million, p50 \(ms(balanced)) ms): the smallest "
                    + "(cost ÷ cheapest cost) × (p50 ÷ fastest p50), here "
                    + String(
                        format: "%.2f × %.2f", recommendation.cost[balanced]! / minCost,
                        recommendation.p50[balanced]! / minP50))
        } else {
            lines.append("no recommendation: every size had errors")
        }
        return lines.joined(separator: "\n")
    }

    private func report(_ sizes: [Size], price: LambdaPrices, recommendation: Recommendation) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        return .object([
            "function": .string(function), "coldPerSize": .number(Double(cold)), "warmPerSize": .number(Double(count)),
            "prices": .object([
                "architecture": .string(price.architecture), "region": .string(price.region),
                "currency": .string(price.currency), "recorded": .string(price.recorded),
                "perGBSecond": .number(price.perGBSecond), "perMillionRequests": .number(price.perMillionRequests),
            ]),
            "sizes": .array(
                sizes.map { size in
                    let warm = !size.durations.isEmpty
                    return .object([
                        "memoryMB": .number(Double(size.memory)), "cpuShare": .number(size.cpuShare),
                        "initMs": number(median(size.initMilliseconds)),
                        "firstResponseMs": number(median(size.firstResponseMilliseconds)),
                        "p50Ms": number(warm ? percentile(size.durations, 0.5) : nil),
                        "p90Ms": number(warm ? percentile(size.durations, 0.9) : nil),
                        "p99Ms": number(warm ? percentile(size.durations, 0.99) : nil),
                        "meanBilledMs": number(warm ? mean(size.billed) : nil),
                        "peakMemoryMB": .number(Double(size.peakMegabytes)),
                        "invocations": .number(Double(size.invocations)),
                        "errors": .object(size.errors.mapValues { .number(Double($0)) }),
                        "costPerMillion": number(recommendation.cost[size.memory]),
                    ])
                }),
            "recommendation": .object([
                "cheapest": number(recommendation.cheapest.map(Double.init)),
                "fastest": number(recommendation.fastest.map(Double.init)),
                "balanced": number(recommendation.balanced.map(Double.init)),
                "balancedBy": .string(
                    "smallest (cost / cheapest cost) × (p50 / fastest p50) among sizes without errors"),
            ]),
        ])
    }

    /// Cost and latency against memory, sizes evenly spaced as Power Tuning draws them.
    static func chart(
        _ sizes: [Size], function: String, price: LambdaPrices, recommendation: Recommendation
    ) -> LineChart {
        var chart = LineChart(
            title: "flint tune \(function): cost and latency by memory size", xLabel: "memory (MB)",
            leftLabel: "duration (ms)", rightLabel: "\(price.currency) per million invocations")
        chart.subtitle =
            "warm p50 and p99 under Lambda's CPU share and memory limit; cost from the mean billed duration "
            + "(\(price.architecture), \(price.region), prices recorded \(price.recorded))"
        let measured = sizes.filter { recommendation.cost[$0.memory] != nil }
        chart.series = [
            .init(
                name: "p50", points: measured.map { (Double($0.memory), percentile($0.durations, 0.5)) },
                color: "#1f77b4"),
            .init(
                name: "p99", points: measured.map { (Double($0.memory), percentile($0.durations, 0.99)) },
                color: "#1f77b4", dashed: true),
            .init(
                name: "cost", points: measured.map { (Double($0.memory), recommendation.cost[$0.memory]!) },
                color: "#d62728", axis: .right),
        ]
        chart.xTicks = sizes.map { size in
            (
                Double(size.memory),
                size.errorCount > 0 ? "\(size.memory) (\(size.errors.keys.sorted().first!))" : "\(size.memory)"
            )
        }
        chart.evenlySpacedX = true
        var labels: [Int: [String]] = [:]
        if let size = recommendation.cheapest { labels[size, default: []].append("cheapest") }
        if let size = recommendation.fastest { labels[size, default: []].append("fastest") }
        if let size = recommendation.balanced { labels[size, default: []].append("balanced") }
        chart.markers = labels.sorted { $0.key < $1.key }.map {
            .init(x: Double($0.key), label: $0.value.joined(separator: ", "), color: "#2ca02c")
        }
        return chart
    }
}

private func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : percentile(values, 0.5) }

private func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
