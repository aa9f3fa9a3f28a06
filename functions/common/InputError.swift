import FlintJSON
import LambdaRuntime

/// A request the function refuses: bad shape, bad value, or over a configured limit.
///
/// Direct and SQS invocations report it as `Function.InvalidInput` (or as that record's failure); HTTP events answer
/// with `status` and an OpenAI-shaped error body. It never takes the environment down.
public struct InputError: Error, CustomStringConvertible, Equatable {
    /// The HTTP status for HTTP events: 400 for bad input, 404, 405, 413.
    public let status: Int
    /// A short code for HTTP bodies (`invalid_request_error`, `not_found`, `method_not_allowed`, `request_too_large`).
    public let code: String
    /// What is wrong, naming the field.
    public let message: String

    /// A 400 `invalid_request_error`.
    public init(_ message: String) {
        self.init(status: 400, code: "invalid_request_error", message: message)
    }

    /// An error with an explicit status and code.
    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The body of an HTTP error response, buffered or streamed: `{"error": {"message", "type", "code"}}`, the
    /// shape OpenAI's clients read.
    public var body: JSONValue {
        .object([
            "error": .object(["message": .string(message), "type": .string(code), "code": .number(Double(status))])
        ])
    }

    /// The error a direct invocation reports: `Function.InvalidInput`.
    public var handlerError: HandlerError { HandlerError(type: "InvalidInput", message: message) }
}
