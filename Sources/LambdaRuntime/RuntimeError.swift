/// A failure of the runtime itself (not of a handler): the Runtime API misbehaved, could not be reached, or the
/// environment is misconfigured.
///
/// Each `Code` names one exact failure; `message` says what was seen. These errors end up in a log line, in
/// `/runtime/init/error`, or as the reason `LambdaRuntime.run` returns a non-zero status. Handler failures are
/// ``HandlerError`` instead.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    /// The exact failure.
    public enum Code: String, Sendable {
        case apiUnreachable
        case serviceFailure
        case unexpectedStatus
        case nextInvocationMissingRequestID
        case nextInvocationMissingDeadline
        case nextInvocationInvalidDeadline
        case nextInvocationMissingFunctionARN
        case transportFailure
    }

    /// The exact failure.
    public let code: Code
    /// What was seen, for humans: one line.
    public let message: String

    /// Creates an error with a code and a one-line message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
