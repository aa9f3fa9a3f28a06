/// A function body at the byte level: the event's bytes in, the response's bytes out.
///
/// The runtime calls `handle` once per invocation, from the loop that received it; with
/// `AWS_LAMBDA_MAX_CONCURRENCY` > 1 several loops call the same handler at once, hence `Sendable`.
/// `response` arrives empty and keeps its capacity between invocations, so appending to it does not allocate once
/// warm. A thrown ``HandlerError`` (or any error) becomes an error response; the runtime carries on.
/// It does not stream: a response is sent whole once `handle` returns.
///
/// ```swift
/// struct Echo: LambdaHandler {
///     func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
///         response.append(contentsOf: event)
///     }
/// }
/// ```
public protocol LambdaHandler: Sendable {
    /// Serves one invocation by appending the response bytes to `response`.
    func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws
}

/// What a handler factory gets while the environment initialises, before the first `/next`.
public struct HandlerInitContext: Sendable {
    /// The function's environment (name, memory, task root where its files are).
    public let function: FunctionEnvironment
    /// The runtime's logger (no request id yet).
    public let logger: Logger

    /// Creates an init context.
    public init(function: FunctionEnvironment, logger: Logger) {
        self.function = function
        self.logger = logger
    }
}
