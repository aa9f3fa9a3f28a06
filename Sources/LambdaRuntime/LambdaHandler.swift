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
///
/// Everything a function may configure itself from comes through here, so that a handler reads no process state of
/// its own: tests and `flint eval` build one with their own variables and output.
public struct HandlerInitContext: Sendable {
    /// The function's environment (name, memory, task root where its files are).
    public let function: FunctionEnvironment
    /// The runtime's logger (no request id yet).
    public let logger: Logger
    /// Where the function writes lines for the log stream that are not log records (EMF metrics): standard output
    /// in an environment.
    public let outputFileDescriptor: Int32
    private let lookup: @Sendable (String) -> String?

    /// Creates an init context; `variables` answers ``variable(_:)``.
    public init(
        function: FunctionEnvironment, logger: Logger, outputFileDescriptor: Int32 = 1,
        variables: @escaping @Sendable (String) -> String? = FunctionEnvironment.processVariable
    ) {
        self.function = function
        self.logger = logger
        self.outputFileDescriptor = outputFileDescriptor
        self.lookup = variables
    }

    /// The environment variable `name` as the runtime was given it; nil when unset. Read it at init, check it
    /// there and throw a ``ConfigurationError`` for a bad value.
    public func variable(_ name: String) -> String? { lookup(name) }
}

/// A setting the function cannot use (a bad `function.json` value, a bad `FLINT_*` variable): thrown by a handler
/// factory, it is reported as `Runtime.ConfigInvalid` with this message, which names the setting.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// What is wrong, naming the file and key or the variable.
    public let description: String

    /// An error with its one-line message.
    public init(_ description: String) { self.description = description }
}
