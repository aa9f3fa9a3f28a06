/// An error a handler throws to choose the `errorType` its caller sees.
///
/// The runtime reports it to `/runtime/invocation/{id}/error` as `Function.<type>` with `message` as the
/// `errorMessage`. `type` is cleaned to the shape Lambda accepts (`[A-Z][a-zA-Z]+`); anything else the handler
/// throws is reported as `Function.<its Swift type name>` with its description as the message.
///
/// ```swift
/// throw HandlerError(type: "InvalidInput", message: "input must be a non-empty string")
/// ```
public struct HandlerError: Error, CustomStringConvertible, Sendable {
    /// The part after `Function.` in the reported error type.
    public let type: String
    /// The `errorMessage` the caller sees.
    public let message: String

    /// Creates an error reported as `Function.<type>`.
    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    public var description: String { "\(type): \(message)" }
}
