import Foundation
import NIOCore

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
    public init(
        payload: [UInt8], clientContext: String? = nil, traceID: String? = nil, tenantID: String? = nil,
        wantsLogTail: Bool = false
    ) {
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

/// An invocation the function service holds: queued, then in flight in one environment. Used only on the
/// service's event loop.
final class PendingInvocation {
    let requestID: String
    let request: InvocationRequest
    /// Answers the caller; called exactly once.
    let done: (InvocationOutcome) -> Void
    let traceID: String
    var environmentID: Int? = nil
    var dispatchedAt: ContinuousClock.Instant? = nil
    var timeoutTask: Scheduled<Void>? = nil
    /// Lines for the log tail, kept only when the caller asked for it.
    var log: [String] = []
    /// Set once the runtime has answered; a second answer for the same id is refused.
    var answered = false
    /// When the runtime posted its answer: the end of the billed duration, even when completing waits for the
    /// answer's log lines.
    var answeredAt: ContinuousClock.Instant? = nil
    /// Who sees a streamed answer as it arrives; nil for buffered invocations (the answer is collected).
    var observer: StreamObserver? = nil

    init(request: InvocationRequest, identifiers: inout Identifiers, done: @escaping (InvocationOutcome) -> Void) {
        self.request = request
        self.done = done
        self.requestID = identifiers.requestID()
        self.traceID = request.traceID ?? identifiers.traceID()
    }
}

/// Receives a runtime's streamed answer as it arrives, on the service's event loop: the streaming Invoke API and
/// the Function URL relay forward it to their callers.
final class StreamObserver {
    /// The runtime began streaming, with this content type (`application/vnd.awslambda.http-integration-response`
    /// for an HTTP answer with a prelude).
    let start: (_ contentType: String?) -> Void
    /// The next bytes of the answer.
    let chunk: ([UInt8]) -> Void

    init(start: @escaping (String?) -> Void, chunk: @escaping ([UInt8]) -> Void) {
        self.start = start
        self.chunk = chunk
    }
}
