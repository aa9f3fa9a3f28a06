import FlintJSON
import LambdaRuntime

/// What a function does once it has a request: its model work and its answer. ``FunctionHandler`` runs it behind
/// every event shape, so a function says nothing about events, routes, error bodies or metrics.
///
/// A request document is the direct event, the JSON body of an HTTP request, or (for functions that take SQS
/// batches) a record's body. The answer is one JSON object, which the pipeline wraps for HTTP.
protocol FunctionBody: Sendable {
    /// The function's name in messages (`embed`).
    var name: String { get }
    /// The HTTP paths it answers on (POST only).
    var routes: [String] { get }
    /// The request limits; the pipeline applies `maxRequestBytes` to HTTP bodies.
    var limits: InputLimits { get }
    /// Where its EMF line goes; the pipeline records one per invocation.
    var metrics: MetricsEmitter { get }

    /// Answers one request document: writes a buffered answer into `out` and returns nil, or returns the writer of
    /// the streamed answer the request asks for, once the request is checked in full (so bad input is still a
    /// plain error).
    func answer(
        _ document: JSONValue, context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) -> StreamWriter?

    /// Answers an SQS batch: `{"batchItemFailures": [...], ...}`. By default batches are refused as a whole.
    func answer(
        _ records: [SQSRecord], context: LambdaContext, measured: inout InvocationMetrics, into out: inout [UInt8])
        throws(InputError)
}

/// Writes a streamed answer's body; it adds what it measures (forward time, tokens) to the metrics.
typealias StreamWriter = @Sendable (ResponseStream, inout InvocationMetrics) throws -> Void

extension FunctionBody {
    func answer(
        _ records: [SQSRecord], context: LambdaContext, measured: inout InvocationMetrics, into out: inout [UInt8]
    ) throws(InputError) {
        throw InputError("the \(name) function answers direct and HTTP invocations, not SQS batches")
    }
}
