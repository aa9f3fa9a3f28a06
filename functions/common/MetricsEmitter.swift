import FlintJSON
import FlintSystem
import LambdaRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one invocation measured, for ``MetricsEmitter``.
public struct InvocationMetrics: Sendable {
    /// Milliseconds spent tokenizing.
    public var tokenizeMilliseconds = 0.0
    /// Milliseconds in the encoder's forward passes.
    public var forwardMilliseconds = 0.0
    /// Milliseconds scoring an index (search) or labels (classify); 0 for embed.
    public var searchMilliseconds = 0.0
    /// Milliseconds for the whole invocation (parse to response written).
    public var totalMilliseconds = 0.0
    /// Tokens embedded, `[CLS]`/`[SEP]` included.
    public var tokens = 0
    /// Texts embedded.
    public var batchSize = 0
    /// Texts cut to the model's limit (only with `truncate`).
    public var truncations = 0
    /// Requests or records refused as invalid.
    public var rejected = 0

    /// An empty record.
    public init() {}
}

/// Writes CloudWatch Embedded Metric Format lines on standard output: one per invocation, or, when
/// `aggregateSeconds` > 0, one per interval with every value of the interval (EMF's value arrays), flushed by the
/// first invocation after the interval ends (no timer thread: an idle environment emits nothing).
///
/// Metrics (namespace from function.json's `metrics.namespace`, default `Flint`): TokenizeTime, ForwardTime,
/// SearchTime, TotalTime (ms), Tokens, BatchSize, Truncations, Rejected, ColdStart (1 on the environment's first
/// invocation), Invocations. Each is published under three dimension sets (``dimensionSets``): FunctionName and
/// Model; FunctionName and FunctionVersion (what a canary's alarms watch: the new version alone); FunctionName and
/// ModelVersion (what the dashboard draws a line per model for). Properties: requestId per invocation. Never any
/// input text.
public final class MetricsEmitter: Sendable {
    private static let metrics: [(name: String, unit: String)] = [
        ("TokenizeTime", "Milliseconds"), ("ForwardTime", "Milliseconds"), ("SearchTime", "Milliseconds"),
        ("TotalTime", "Milliseconds"),
        ("Tokens", "Count"), ("BatchSize", "Count"), ("Truncations", "Count"), ("Rejected", "Count"),
        ("ColdStart", "Count"), ("Invocations", "Count"),
    ]

    private struct State {
        var coldStart = true
        var pending: [[Double]] = Array(repeating: [], count: MetricsEmitter.metrics.count)
        var windowStart: Int64 = 0
    }

    /// The dimension sets every metric is published under (those whose values are known: Model and ModelVersion
    /// only for a model function). The template's alarms and dashboard name these; a test compares them.
    public static let dimensionSets = [
        ["FunctionName", "Model"], ["FunctionName", "FunctionVersion"], ["FunctionName", "ModelVersion"],
    ]

    private let namespace: String
    private let dimensions: [String: String]
    /// The EMF directive's `Dimensions`: the sets whose every dimension has a value here, made once.
    private let directiveDimensions: JSONValue
    private let aggregateMilliseconds: Int64
    private let fileDescriptor: Int32
    private let state = Mutex(State())

    /// Reads `metrics.namespace` and `metrics.aggregateSeconds` from the configuration; `functionVersion` is the
    /// environment's `AWS_LAMBDA_FUNCTION_VERSION`.
    public init(
        configuration: FunctionConfiguration, functionName: String, functionVersion: String = "$LATEST",
        model: EmbeddingModel?, fileDescriptor: Int32 = 1
    ) throws {
        namespace = try configuration.string("namespace", in: "metrics", default: "Flint")
        aggregateMilliseconds = Int64(try configuration.number("aggregateSeconds", in: "metrics", default: 0) * 1000)
        var dimensions = [
            "FunctionName": functionName.isEmpty ? "local" : functionName,
            "FunctionVersion": functionVersion.isEmpty ? "$LATEST" : functionVersion,
        ]
        if let model {
            dimensions["Model"] = model.name
            dimensions["ModelVersion"] = model.version
        }
        self.dimensions = dimensions
        directiveDimensions = .array(
            Self.dimensionSets.filter { $0.allSatisfy { dimensions[$0] != nil } }.map { .array($0.map { .string($0) }) }
        )
        self.fileDescriptor = fileDescriptor
    }

    /// Records one invocation; writes a line now (per-invocation mode) or when the interval is over.
    public func record(_ invocation: InvocationMetrics, requestID: String) {
        let now = LambdaContext.nowMilliseconds()
        let line: [UInt8]? = state.withLock { state in
            let values = [
                invocation.tokenizeMilliseconds, invocation.forwardMilliseconds, invocation.searchMilliseconds,
                invocation.totalMilliseconds,
                Double(invocation.tokens), Double(invocation.batchSize), Double(invocation.truncations),
                Double(invocation.rejected), state.coldStart ? 1 : 0, 1,
            ]
            state.coldStart = false
            if aggregateMilliseconds <= 0 {
                return document(timestamp: now, values: values.map { .number($0) }, requestID: requestID)
            }
            if state.windowStart == 0 { state.windowStart = now }
            for (index, value) in values.enumerated() { state.pending[index].append(value) }
            guard now - state.windowStart >= aggregateMilliseconds else { return nil }
            let line = document(
                timestamp: now, values: state.pending.map { .array($0.map { .number($0) }) }, requestID: nil)
            state.pending = Array(repeating: [], count: Self.metrics.count)
            state.windowStart = now
            return line
        }
        if let line { output(line) }
    }

    /// Writes one EMF line with extra metrics (the drift monitor's, SQS results logged per record), outside the
    /// per-invocation record. `embedded` adds one member whose value is JSON already written (an answer), as is.
    public func emit(
        _ values: [(name: String, unit: String, value: Double)], properties extra: [String: JSONValue] = [:],
        embedded: (name: String, json: [UInt8])? = nil
    ) {
        var members = extra
        for (name, value) in dimensions { members[name] = .string(value) }
        for metric in values { members[metric.name] = .number(metric.value) }
        members["_aws"] = header(timestamp: LambdaContext.nowMilliseconds(), metrics: values.map { ($0.name, $0.unit) })
        var line = JSONValue.object(members).jsonBytes
        if let embedded {
            line.removeLast()  // the object's closing brace
            line.append(UInt8(ascii: ","))
            JSONText.appendString(embedded.name, to: &line)
            line.append(UInt8(ascii: ":"))
            line.append(contentsOf: embedded.json)
            line.append(UInt8(ascii: "}"))
        }
        line.append(0x0A)
        output(line)
    }

    private func header(timestamp: Int64, metrics: [(name: String, unit: String)]) -> JSONValue {
        .object([
            "Timestamp": .number(Double(timestamp)),
            "CloudWatchMetrics": .array([
                .object([
                    "Namespace": .string(namespace),
                    "Dimensions": directiveDimensions,
                    "Metrics": .array(metrics.map { .object(["Name": .string($0.name), "Unit": .string($0.unit)]) }),
                ])
            ]),
        ])
    }

    private func document(timestamp: Int64, values: [JSONValue], requestID: String?) -> [UInt8] {
        var members: [String: JSONValue] = ["_aws": header(timestamp: timestamp, metrics: Self.metrics)]
        for (name, value) in dimensions { members[name] = .string(value) }
        for (index, metric) in Self.metrics.enumerated() { members[metric.name] = values[index] }
        if let requestID { members["requestId"] = .string(requestID) }
        var line = JSONValue.object(members).jsonBytes
        line.append(0x0A)
        return line
    }

    /// Every line leaves whole: one writer at a time for the whole process, with the write loop inside the lock.
    /// A single write() is atomic on a pipe only up to PIPE_BUF (4 KiB), and an SQS batch's logged answers are far
    /// larger, so atomicity cannot be left to the kernel; concurrent loops (and emitters) take turns here instead.
    private static let outputLock = Mutex(())

    private func output(_ line: [UInt8]) {
        Self.outputLock.withLock { _ in FileDescriptor.writeAll(fileDescriptor, line) }
    }

}

/// A monotonic stopwatch in milliseconds.
struct Stopwatch {
    private var start = Stopwatch.now()

    /// Milliseconds since the stopwatch started (or was last `lap`ped), then restarts it.
    mutating func lap() -> Double {
        let now = Stopwatch.now()
        defer { start = now }
        return Double(now - start) / 1e6
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
