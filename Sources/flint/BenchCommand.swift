import ArgumentParser
import FlintCharts
import FlintJSON
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `flint bench`: a load generator for the Invoke API (the emulator's, or any endpoint speaking it).
///
/// Each worker keeps one HTTP/1.1 connection. Every event carries a sequence number; with an echoing function the
/// answers are checked, so lost, duplicated or crossed responses are counted, not assumed away. With `--rate`,
/// requests are scheduled at fixed times and latency counts from the scheduled time.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Send N invocations at a concurrency or rate; print throughput, latency, cold starts and errors."
    )

    @Option(help: "Invoke API endpoint.")
    var url = "http://127.0.0.1:9000"
    @Option(help: "Function name.")
    var function = "echo"
    @Option(name: [.customShort("n"), .long], help: "Number of invocations.")
    var count = 2000
    @Option(name: [.customShort("c"), .long], help: "Concurrent connections.")
    var concurrency = 1
    @Option(help: "Target invocations per second (default: as fast as the connections go).")
    var rate: Double?
    @Option(help: "Extra payload bytes per event (a padding string).")
    var padding = 0
    @Flag(help: "Do not check that responses echo their events.")
    var noVerify = false
    @Option(
        help: "Send this JSON event every time instead of numbered echo events (for model functions; no echo check).")
    var event: String?
    @Option(
        help: ArgumentHelp(
            "An open-loop event-volume profile instead of -n/-c/--rate: steady:R/Ts, ramp:A-B/Ts, spike:A-B/Ts (B for the middle fifth), or a file of per-second rates.",
            valueName: "PROFILE"))
    var profile: String?
    @Option(help: "With --profile: the most requests in flight at once (open loop up to this many).")
    var connections = 256
    @Option(help: "With --profile: draw the run second by second into this .svg or .html file.")
    var chart: String?

    func run() throws {
        if let profile { return try runProfile(LoadProfile(profile)) }
        guard count > 0, concurrency > 0, padding >= 0 else {
            throw ValidationError("--count and --concurrency must be positive")
        }
        guard let endpoint = URLComponents(string: url), endpoint.scheme == "http", let host = endpoint.host else {
            throw ValidationError("--url must be http://host:port, not '\(url)'")
        }
        let port = endpoint.port ?? 80
        let path = "/2015-03-31/functions/\(function)/invocations"
        let coldBefore = try Self.coldStarts(host: host, port: port, function: function)

        let next = Atomic<Int>(0)
        let results = Mutex<[Sample]>([])
        let failures = Mutex<[String]>([])
        let pad = String(repeating: "x", count: padding)
        let start = Date()
        let threads = (0..<concurrency).map { _ in
            Thread { [self] in
                var connection: Int32 = -1
                var samples: [Sample] = []
                defer {
                    if connection >= 0 { close(connection) }
                    results.withLock { $0.append(contentsOf: samples) }
                }
                while true {
                    let sequence = next.add(1, ordering: .relaxed).oldValue
                    if sequence >= count { return }
                    var scheduled = Date()
                    if let rate {
                        scheduled = start.addingTimeInterval(Double(sequence) / rate)
                        let wait = scheduled.timeIntervalSinceNow
                        if wait > 0 { usleep(useconds_t(wait * 1e6)) }
                    }
                    if connection < 0 { connection = Self.connect(host: host, port: port) }
                    if connection < 0 {
                        failures.withLock { $0.append("#\(sequence): cannot connect to \(host):\(port)") }
                        continue
                    }
                    let body = event.map { Array($0.utf8) } ?? Array(#"{"seq":\#(sequence),"pad":"\#(pad)"}"#.utf8)
                    let began = padding >= 0 ? (rate == nil ? Date() : scheduled) : Date()
                    guard let reply = Self.post(connection, host: host, path: path, body: body) else {
                        failures.withLock { $0.append("#\(sequence): connection lost") }
                        close(connection)
                        connection = -1
                        continue
                    }
                    samples.append(
                        Sample(
                            sequence: sequence, seconds: Date().timeIntervalSince(began), status: reply.status,
                            functionError: reply.functionError, echoed: reply.body == body))
                }
            }
        }
        for thread in threads { thread.start() }
        while next.load(ordering: .relaxed) < count + concurrency
            || results.withLock({ $0.count }) + failures.withLock({ $0.count }) < count
        {
            if results.withLock({ $0.count }) + failures.withLock({ $0.count }) >= count { break }
            usleep(2000)
        }
        let elapsed = Date().timeIntervalSince(start)
        let samples = results.withLock { $0 }
        let lost = failures.withLock { $0 }
        let coldAfter = try Self.coldStarts(host: host, port: port, function: function)

        let latencies = samples.map(\.seconds).sorted()
        func percentile(_ fraction: Double) -> String {
            latencies.isEmpty
                ? "-"
                : String(
                    format: "%.3f",
                    latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * fraction))] * 1000)
        }
        var seen: [Int: Int] = [:]
        for sample in samples { seen[sample.sequence, default: 0] += 1 }
        let duplicated = seen.values.filter { $0 > 1 }.count
        let httpErrors = samples.filter { $0.status != 200 }.count
        let functionErrors = samples.filter { $0.functionError }.count
        let verifies = !noVerify && event == nil
        let wrong = !verifies ? 0 : samples.filter { $0.status == 200 && !$0.functionError && !$0.echoed }.count
        print(
            "flint bench: \(count) invocations of \(function) at \(url), concurrency \(concurrency)"
                + (rate.map { ", rate \($0)/s" } ?? ""))
        print(
            "  throughput \(String(format: "%.0f", Double(samples.count) / elapsed)) invocations/s (\(String(format: "%.2f", elapsed)) s)"
        )
        print(
            "  latency ms: p50 \(percentile(0.5))  p90 \(percentile(0.9))  p99 \(percentile(0.99))  max \(percentile(1))"
        )
        print(
            "  cold starts \(coldAfter.map { b in coldBefore.map { String(b - $0) } ?? "?" } ?? "?"), "
                + "function errors \(functionErrors), HTTP errors \(httpErrors), lost \(lost.count), duplicated \(duplicated)"
                + (verifies ? ", not echoed \(wrong)" : ""))
        for failure in lost.prefix(5) { print("  \(failure)") }
        if !lost.isEmpty || duplicated > 0 || httpErrors > 0 || functionErrors > 0 || wrong > 0 { throw ExitCode(1) }
    }

    /// `--profile`: the open-loop run, a line per second, the summary and the chart.
    private func runProfile(_ profile: LoadProfile) throws {
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
        guard let endpoint = URLComponents(string: url), endpoint.scheme == "http", let host = endpoint.host else {
            throw ValidationError("--url must be http://host:port, not '\(url)'")
        }
        let port = endpoint.port ?? 80
        _ = try Self.coldStarts(host: host, port: port, function: function)
        let fixed = event.map { Array($0.utf8) }
        let run = ProfileRun(
            profile: profile, host: host, port: port, function: function, connections: connections,
            body: { fixed ?? Array(#"{"seq":\#($0)}"#.utf8) })
        let total = profile.schedule.count
        print(
            "flint bench: profile \(profile.name) against \(function) at \(url): \(total) requests over \(profile.rates.count) s"
        )
        let (samples, stats) = try run.run()
        let seconds = ProfileRun.seconds(samples, stats: stats, duration: profile.rates.count)
        print("second  arrivals  completions  environments  cold  throttled  errors  lost   p50 ms   p99 ms")
        for (index, second) in seconds.enumerated() {
            func column(_ text: String, _ width: Int) -> String {
                String(repeating: " ", count: max(0, width - text.count)) + text
            }
            let p50 = second.latencies.isEmpty ? "-" : String(format: "%.1f", percentile(second.latencies, 0.5))
            let p99 = second.latencies.isEmpty ? "-" : String(format: "%.1f", percentile(second.latencies, 0.99))
            print(
                column(String(index), 6) + column(String(second.arrivals), 10) + column(String(second.completions), 13)
                    + column(String(second.environments), 14) + column(String(second.coldStarts), 6)
                    + column(String(second.throttles), 11) + column(String(second.errors), 8)
                    + column(String(second.lost), 6) + column(p50, 9) + column(p99, 9))
        }
        let lost = samples.filter { $0.status == 0 }.count
        let throttled = samples.filter { $0.status == 429 }.count
        let errors = samples.filter { $0.functionError || ($0.status != 200 && $0.status != 429 && $0.status != 0) }
            .count
        let wrong =
            fixed == nil
            ? samples.filter { $0.status == 200 && !$0.functionError && $0.body != run.body($0.sequence) }.count : 0
        let late = samples.filter { $0.started - $0.scheduled > 0.010 }.count
        let latencies = samples.filter { $0.status == 200 }.map { ($0.completed - $0.scheduled) * 1000 }
        print(
            "  \(total) scheduled, \(samples.count - lost - throttled) answered, \(throttled) throttled (429), \(errors) errors, "
                + "lost \(lost)\(fixed == nil ? ", not echoed \(wrong)" : ""); latency from the scheduled start p50 "
                + String(format: "%.1f ms, p99 %.1f ms", percentile(latencies, 0.5), percentile(latencies, 0.99))
                + "; peak environments \(seconds.map(\.environments).max() ?? 0), cold starts \(seconds.map(\.coldStarts).reduce(0, +))"
        )
        if late > 0 {
            print("  \(late) requests started over 10 ms late: every one of --connections \(connections) was busy")
        }
        if let chart {
            let drawing = ProfileRun.chart(
                seconds, title: "flint bench \(function): \(profile.name)",
                subtitle:
                    "open-loop arrivals at \(url); latency from each request's scheduled start; environments and cold starts from the emulator's /stats"
            )
            try (chart.hasSuffix(".html") ? drawing.html() : drawing.svg()).write(
                toFile: chart, atomically: true, encoding: .utf8)
            print("  chart: \(chart)")
        }
        if lost > 0 || errors > 0 || wrong > 0 { throw ExitCode(1) }
    }

    struct Sample {
        let sequence: Int
        let seconds: Double
        let status: Int
        let functionError: Bool
        let echoed: Bool
    }

    struct Reply {
        let status: Int
        let functionError: Bool
        let body: [UInt8]
        /// Response headers, names lower-cased.
        var headers: [String: String] = [:]
    }

    /// The function's cold-start count from the emulator's `/stats`, or nil when the endpoint has none.
    static func coldStarts(host: String, port: Int, function: String) throws -> Int? {
        let connection = connect(host: host, port: port)
        guard connection >= 0 else {
            throw ValidationError("cannot connect to \(host):\(port): is the emulator running?")
        }
        defer { close(connection) }
        guard let reply = request(connection, method: "GET", host: host, path: "/stats", body: []), reply.status == 200,
            let stats = try? JSONValue(parsing: reply.body)
        else { return nil }
        return stats["functions"]?[function]?["coldStarts"]?.integer
    }

    static func connect(host: String, port: Int) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else { return -1 }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0, Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            if fd >= 0 { close(fd) }
            return -1
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func post(_ connection: Int32, host: String, path: String, body: [UInt8]) -> Reply? {
        request(connection, method: "POST", host: host, path: path, body: body)
    }

    /// One HTTP/1.1 exchange on a kept-alive connection, with extra request `headers`; nil when the connection fails.
    static func request(
        _ connection: Int32, method: String, host: String, path: String, body: [UInt8], headers: [String: String] = [:]
    ) -> Reply? {
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        let head =
            "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\(extra)\r\n"
        let message = Array(head.utf8) + body
        var offset = 0
        while offset < message.count {
            let sent = message[offset...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return nil }
            offset += sent
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int? = nil
        var scanned = 0
        while headEnd == nil {
            while scanned + 3 < buffer.count {
                if buffer[scanned] == 13 && buffer[scanned + 1] == 10 && buffer[scanned + 2] == 13
                    && buffer[scanned + 3] == 10
                {
                    headEnd = scanned
                    break
                }
                scanned += 1
            }
            if headEnd != nil { break }
            let received = recv(connection, &chunk, chunk.count, 0)
            if received <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<received])
        }
        let rawHead = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let headText = rawHead.lowercased()
        let lines = headText.split(separator: "\r\n")
        var replyHeaders: [String: String] = [:]
        for line in rawHead.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            replyHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var length = 0
        var functionError = false
        for line in lines.dropFirst() {
            if line.hasPrefix("content-length:") {
                length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            if line.hasPrefix("x-amz-function-error:") { functionError = true }
        }
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length {
            let received = recv(connection, &chunk, chunk.count, 0)
            if received <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<received])
        }
        return Reply(
            status: status, functionError: functionError, body: Array(buffer[bodyStart..<(bodyStart + length)]),
            headers: replyHeaders)
    }
}
