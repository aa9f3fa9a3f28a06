import Foundation

/// What a caller asked to run: the payload and the Invoke headers the runtime will see.
public struct InvocationRequest: Sendable {
    /// The event bytes, unchanged.
    public var payload: [UInt8]
    /// The decoded client context JSON (`X-Amz-Client-Context` is base64 on the Invoke side).
    public var clientContext: String?
    /// `X-Amzn-Trace-Id`, or nil to generate an X-Ray-shaped one.
    public var traceID: String?
    /// `X-Amz-Tenant-Id`.
    public var tenantID: String?
    /// Whether the caller wants the log tail (`X-Amz-Log-Type: Tail`).
    public var wantsLogTail: Bool

    /// Creates a request.
    public init(payload: [UInt8], clientContext: String? = nil, traceID: String? = nil, tenantID: String? = nil,
                wantsLogTail: Bool = false) {
        self.payload = payload
        self.clientContext = clientContext
        self.traceID = traceID
        self.tenantID = tenantID
        self.wantsLogTail = wantsLogTail
    }
}

/// How an invocation ended, as the Invoke API reports it.
public enum InvocationResult: Sendable, Equatable {
    /// The function's response bytes.
    case response([UInt8])
    /// A function or runtime error: its type (`Function.X`, `Runtime.ExitError`, `Sandbox.Timedout`, ...) and the
    /// error document the caller receives.
    case functionError(type: String, document: [UInt8])
    /// The service refused or could not run it.
    case serviceError(ServiceError)
}

/// The result plus what the Invoke API returns beside it.
public struct InvocationOutcome: Sendable {
    /// The request id the invocation ran under (empty when it never ran).
    public let requestID: String
    /// The result.
    public let result: InvocationResult
    /// The last 4 KB of this invocation's log, when asked for.
    public let logTail: String?
}

/// What `GET /next` hands a runtime.
struct Dispatch: Sendable {
    let requestID: String
    let payload: [UInt8]
    let deadlineMilliseconds: Int64
    let functionARN: String
    let traceID: String
    let clientContext: String?
    let tenantID: String?
}

/// An invocation the function service holds: queued, then in flight in one environment. Used only inside the
/// service's actor.
final class PendingInvocation {
    let requestID = UUID().uuidString.lowercased()
    let request: InvocationRequest
    let continuation: CheckedContinuation<InvocationOutcome, Never>
    let traceID: String
    var environmentID: Int? = nil
    var dispatchedAt: ContinuousClock.Instant? = nil
    var timeoutTask: Task<Void, Never>? = nil
    /// Lines for the log tail, kept only when the caller asked for it.
    var log: [String] = []

    init(request: InvocationRequest, continuation: CheckedContinuation<InvocationOutcome, Never>) {
        self.request = request
        self.continuation = continuation
        self.traceID = request.traceID ?? Self.makeTraceID()
    }

    /// `Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=0`, the X-Ray header shape.
    static func makeTraceID() -> String {
        func hex(_ digits: Int) -> String {
            (0..<digits).map { _ in String(UInt8.random(in: 0..<16), radix: 16) }.joined()
        }
        let epoch = String(UInt32(Date().timeIntervalSince1970), radix: 16)
        return "Root=1-\(epoch)-\(hex(24));Parent=\(hex(16));Sampled=0"
    }
}
