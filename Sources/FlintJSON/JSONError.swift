/// Why a JSON document could not be parsed, and the byte offset where it went wrong.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was wrong, e.g. "expected ',' or '}' in object".
    public let reason: String
    /// Byte offset into the input.
    public let offset: Int

    /// Creates an error at `offset`.
    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
