import ArgumentParser
import FlintCharts
import FlintJSON
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An open-loop load run for `flint bench --profile`: requests start on the profile's schedule whether or not
/// earlier ones have finished (as events arrive in production), up to `connections` in flight; the emulator's
/// `/stats` is read every second for its environments, cold starts and throttles. Latency counts from each
/// request's scheduled start.
struct ProfileRun {
    let profile: LoadProfile
    let host: String
    let port: Int
    let function: String
    let connections: Int
    /// The event for request `sequence`.
    let body: @Sendable (Int) -> [UInt8]

    /// One request's fate.
    struct Sample: Sendable {
        let sequence: Int
        /// Scheduled and completed, in seconds from the start.
        let scheduled: Double
        let completed: Double
        /// When it actually started: later than scheduled when every connection was busy.
        let started: Double
        /// 0 when no answer came (lost).
        let status: Int
        let functionError: Bool
        let body: [UInt8]
    }

    /// One second of the run.
    struct Second {
        var arrivals = 0
        var completions = 0
        var errors = 0
        var throttles = 0
        var lost = 0
        var latencies: [Double] = []
        var environments = 0
        var coldStarts = 0
    }

    /// Runs the profile; returns every request's sample and the per-second `/stats` readings (environments, cold
    /// starts so far).
    func run() throws -> (samples: [Sample], stats: [(environments: Int, coldStarts: Int)]) {
        let schedule = profile.schedule
        let next = Atomic<Int>(0)
        let samples = Mutex<[Sample]>([])
        let stats = Mutex<[(environments: Int, coldStarts: Int)]>([])
        let running = Atomic<Bool>(true)
        let start = ProcessInfo.processInfo.systemUptime
        let workers = (0..<max(1, min(connections, schedule.count))).map { _ in
            Thread { [self] in
                var connection: Int32 = -1
                var mine: [Sample] = []
                defer {
                    if connection >= 0 { close(connection) }
                    samples.withLock { $0.append(contentsOf: mine) }
                }
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    if index >= schedule.count { return }
                    let wait = schedule[index] - (ProcessInfo.processInfo.systemUptime - start)
                    if wait > 0 { usleep(useconds_t(wait * 1e6)) }
                    let began = ProcessInfo.processInfo.systemUptime - start
                    if connection < 0 { connection = BenchCommand.connect(host: host, port: port) }
                    let event = body(index)
                    let reply =
                        connection < 0
                        ? nil
                        : BenchCommand.post(
                            connection, host: host, path: "/2015-03-31/functions/\(function)/invocations", body: event)
                    if reply == nil, connection >= 0 {
                        close(connection)
                        connection = -1
                    }
                    mine.append(
                        Sample(
                            sequence: index, scheduled: schedule[index],
                            completed: ProcessInfo.processInfo.systemUptime - start, started: began,
                            status: reply?.status ?? 0, functionError: reply?.functionError ?? false,
                            body: reply?.body ?? []))
                }
            }
        }
        let monitor = Thread { [self] in
            let connection = BenchCommand.connect(host: host, port: port)
            defer { if connection >= 0 { close(connection) } }
            var second = 1.0
            while running.load(ordering: .relaxed) {
                let wait = second - (ProcessInfo.processInfo.systemUptime - start)
                if wait > 0 { usleep(useconds_t(wait * 1e6)) }
                var reading = (environments: 0, coldStarts: 0)
                if connection >= 0,
                    let reply = BenchCommand.request(connection, method: "GET", host: host, path: "/stats", body: []),
                    let document = try? JSONValue(parsing: reply.body), let figures = document["functions"]?[function]
                {
                    reading = (figures["environments"]?.integer ?? 0, figures["coldStarts"]?.integer ?? 0)
                }
                stats.withLock { $0.append(reading) }
                second += 1
            }
        }
        for worker in workers { worker.start() }
        monitor.start()
        while samples.withLock({ $0.count }) < schedule.count { usleep(5000) }
        running.store(false, ordering: .relaxed)
        usleep(1_100_000)  // the monitor's last reading
        return (samples.withLock { $0 }.sorted { $0.sequence < $1.sequence }, stats.withLock { $0 })
    }

    /// The run second by second: arrivals and latencies by scheduled second, completions by completion second,
    /// environments and cold starts from `/stats`.
    static func seconds(
        _ samples: [Sample], stats: [(environments: Int, coldStarts: Int)], duration: Int
    ) -> [Second] {
        let last = max(duration, Int((samples.map(\.completed).max() ?? 0).rounded(.up)))
        var seconds = [Second](repeating: Second(), count: max(1, last))
        for sample in samples {
            let arrival = min(Int(sample.scheduled), seconds.count - 1)
            seconds[arrival].arrivals += 1
            if sample.status == 0 {
                seconds[arrival].lost += 1
                continue
            }
            seconds[min(Int(sample.completed), seconds.count - 1)].completions += 1
            if sample.status == 429 { seconds[arrival].throttles += 1 }
            if sample.functionError || (sample.status != 200 && sample.status != 429) { seconds[arrival].errors += 1 }
            if sample.status == 200 { seconds[arrival].latencies.append((sample.completed - sample.scheduled) * 1000) }
        }
        var previousCold = 0
        for (index, reading) in stats.enumerated() where index < seconds.count {
            seconds[index].environments = reading.environments
            seconds[index].coldStarts = max(0, reading.coldStarts - previousCold)
            previousCold = reading.coldStarts
        }
        return seconds
    }

    /// The picture of a run: arrivals, completions, throttles, environments and cold starts per second on the
    /// left, p50 and p99 latency on the right.
    static func chart(_ seconds: [Second], title: String, subtitle: String) -> LineChart {
        var chart = LineChart(
            title: title, xLabel: "seconds", leftLabel: "per second / environments", rightLabel: "latency (ms)")
        chart.subtitle = subtitle
        func series(_ value: (Second) -> Double) -> [(x: Double, y: Double)] {
            seconds.enumerated().map { (Double($0.offset) + 0.5, value($0.element)) }
        }
        let measured = seconds.enumerated().filter { !$0.element.latencies.isEmpty }
        func latency(_ fraction: Double) -> [(x: Double, y: Double)] {
            measured.map { (Double($0.offset) + 0.5, percentile($0.element.latencies, fraction)) }
        }
        chart.series = [
            .init(name: "completions/s", points: series { Double($0.completions) }, color: "#1f77b4", markers: false),
            .init(
                name: "arrivals/s", points: series { Double($0.arrivals) }, color: "#555555", dashed: true,
                markers: false),
            .init(name: "environments", points: series { Double($0.environments) }, color: "#2ca02c", markers: false),
            .init(name: "cold starts", points: series { Double($0.coldStarts) }, color: "#9467bd", markers: false),
            .init(
                name: "throttles/s", points: series { Double($0.throttles) }, color: "#ff7f0e", dashed: true,
                markers: false),
            .init(name: "p50", points: latency(0.5), color: "#d62728", axis: .right, markers: false),
            .init(name: "p99", points: latency(0.99), color: "#d62728", axis: .right, dashed: true, markers: false),
        ]
        return chart
    }
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
}
