/// A handler that can stream its answer (see ``ResponseStream``). It is also a ``LambdaHandler``: invocations for
/// which `streams(_:)` is false take the buffered path, with its 6 MB limit.
///
/// ```swift
/// struct Countdown: LambdaStreamingHandler {
///     func streams(_ event: [UInt8]) -> Bool { true }
///     func handle(_ event: [UInt8], context: LambdaContext, stream: ResponseStream) throws {
///         for n in (1...3).reversed() { try stream.write("\(n)\n") }
///     }
///     func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {}
/// }
/// ```
public protocol LambdaStreamingHandler: LambdaHandler {
    /// Whether this invocation's answer is streamed.
    func streams(_ event: [UInt8]) -> Bool
    /// Serves one invocation by writing to `stream`; returning finishes it, throwing ends it with an error.
    func handle(_ event: [UInt8], context: LambdaContext, stream: ResponseStream) throws
}
