/// Why a model file could not be read or written: one line naming the file, field or tensor.
public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
