import FoundationEssentials
import LambdaRuntime

/// Adapts a closure over `Decodable` events and `Encodable` outputs to the byte-level ``LambdaHandler``.
///
/// The event is decoded from JSON; an event that does not decode is answered with a `Function.InvalidEvent` error
/// response naming the problem, never a crash. The output is encoded as JSON. It uses FoundationEssentials'
/// JSON coders, not full Foundation.
///
/// ```swift
/// struct Greeting: Decodable { let name: String }
/// let hello = CodableHandler { (event: Greeting, context) in ["message": "hello \(event.name)"] }
/// ```
public struct CodableHandler<Event: Decodable, Output: Encodable>: LambdaHandler {
    private let body: @Sendable (Event, LambdaContext) throws -> Output

    /// Wraps `body`, which gets the decoded event and returns what is encoded as the response.
    public init(_ body: @escaping @Sendable (Event, LambdaContext) throws -> Output) {
        self.body = body
    }

    public func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        let decoded: Event
        do {
            decoded = try JSONDecoder().decode(Event.self, from: Data(event))
        } catch {
            throw HandlerError(
                type: "InvalidEvent", message: "event is not a valid \(Event.self): \(Self.describe(error))")
        }
        let output = try body(decoded, context)
        response.append(contentsOf: try JSONEncoder().encode(output))
    }

    /// One line saying where decoding failed, instead of the coder's multi-line debug dump.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .dataCorrupted(let context):
            return "invalid JSON\(path(context))"
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)'\(path(context))"
        case .typeMismatch(let type, let context):
            return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context):
            return "expected \(type), found null\(path(context))"
        @unknown default:
            return String(describing: error)
        }
    }
}
