import FlintJSON
import Synchronization

/// Counters and invocation durations of one function, for `GET /stats` and the load generator.
///
/// Durations are what REPORT lines say (dispatch to result); the most recent 100,000 are kept for percentiles.
final class EmulatorStatistics: Sendable {
    private struct Counts {
        var coldStarts = 0
        var invocations = 0
        var errors = 0
        var throttles = 0
        var timeouts = 0
        var crashes = 0
        var asyncRetries = 0
        var durations: [Double] = []
        var nextSlot = 0
    }

    private static let kept = 100_000
    private let counts = Mutex(Counts())

    func record(duration milliseconds: Double, error: Bool) {
        counts.withLock {
            $0.invocations += 1
            if error { $0.errors += 1 }
            if $0.durations.count < Self.kept {
                $0.durations.append(milliseconds)
            } else {
                $0.durations[$0.nextSlot] = milliseconds
                $0.nextSlot = ($0.nextSlot + 1) % Self.kept
            }
        }
    }
    func record(coldStart: Void) { counts.withLock { $0.coldStarts += 1 } }
    func record(throttle: Void) { counts.withLock { $0.throttles += 1 } }
    func record(timeout: Void) { counts.withLock { $0.timeouts += 1 } }
    func record(crash: Void) { counts.withLock { $0.crashes += 1 } }
    func record(asyncRetry: Void) { counts.withLock { $0.asyncRetries += 1 } }

    /// The figures as a JSON object (durations in milliseconds).
    func json(environments: Int, queued: Int) -> JSONValue {
        counts.withLock { counts in
            let sorted = counts.durations.sorted()
            func percentile(_ fraction: Double) -> JSONValue {
                sorted.isEmpty
                    ? .null : .number(sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))])
            }
            return .object([
                "environments": .number(Double(environments)),
                "queued": .number(Double(queued)),
                "coldStarts": .number(Double(counts.coldStarts)),
                "invocations": .number(Double(counts.invocations)),
                "errors": .number(Double(counts.errors)),
                "throttles": .number(Double(counts.throttles)),
                "timeouts": .number(Double(counts.timeouts)),
                "crashes": .number(Double(counts.crashes)),
                "asyncRetries": .number(Double(counts.asyncRetries)),
                "durationMs": .object([
                    "p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99),
                    "max": sorted.last.map { .number($0) } ?? .null,
                ]),
            ])
        }
    }
}
