/// Why the emulator could not do what it was asked (start, spawn, read its configuration).
///
/// Errors an invocation returns to a caller are ``ServiceError`` or a function error, not this.
public enum EmulatorError: Error, CustomStringConvertible, Sendable {
    case spawnFailed(String)
    case bindFailed(String)

    public var description: String {
        switch self {
        case .spawnFailed(let message), .bindFailed(let message): message
        }
    }
}
