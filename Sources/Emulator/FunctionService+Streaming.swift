import FlintJSON
import Foundation
import NIOCore
import NIOHTTP1

/// Streamed answers from runtimes (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked, with the error
/// trailers of a mid-stream failure).
extension FunctionService {
    /// The most bytes a streamed answer may have (200 MB).
    static let maximumStreamedBytes = 200 * 1_048_576

    /// The consumer of a runtime's streamed `/response` body for `requestID`.
    func streamBody(environmentID: Int, requestID: String, contentType: String?) -> any StreamingRequestBody {
        let pending = inFlight[requestID].flatMap { $0.environmentID == environmentID && !$0.answered ? $0 : nil }
        pending?.answered = true
        return RuntimeStreamBody(service: self, pending: pending, contentType: contentType)
    }
}

/// One streamed answer on its way from a runtime: forwarded chunk by chunk to a streaming caller (at Lambda's
/// bandwidth when the emulator is asked to apply it), or collected for a buffered one (6 MB limit).
final class RuntimeStreamBody: StreamingRequestBody {
    private let service: FunctionService
    private let pending: PendingInvocation?
    private let contentType: String?
    private var collected: [UInt8] = []
    private var total = 0
    private var started = false
    private var tooLarge: String? = nil
    private let beganAt = ContinuousClock.now
    /// Chunks held back by the bandwidth limit, and whether a flush is scheduled.
    private var held: [[UInt8]] = []
    private var forwarded = 0
    private var flushScheduled = false
    private var ended: (() -> Void)? = nil

    init(service: FunctionService, pending: PendingInvocation?, contentType: String?) {
        self.service = service
        self.pending = pending
        self.contentType = contentType
    }

    private var isCurrent: Bool {
        guard let pending else { return false }
        return service.inFlight[pending.requestID] === pending
    }

    func receive(_ chunk: ByteBuffer) {
        guard isCurrent, tooLarge == nil else { return }
        total += chunk.readableBytes
        if total > FunctionService.maximumStreamedBytes {
            tooLarge =
                "Response payload size exceeded maximum allowed payload size (\(FunctionService.maximumStreamedBytes) bytes)."
            return
        }
        let bytes = Array(buffer: chunk)
        guard let observer = pending?.observer else {
            if total > FunctionService.maximumResponseBytes {
                tooLarge =
                    "Response payload size (\(total) bytes) exceeded maximum allowed payload size (\(FunctionService.maximumResponseBytes) bytes)."
            } else {
                collected += bytes
            }
            return
        }
        if !started {
            started = true
            observer.start(contentType)
        }
        held.append(bytes)
        flush(observer)
    }

    /// Forwards held chunks as far as the bandwidth allows: 6 MB at once, then 2 MB/s.
    private func flush(_ observer: StreamObserver) {
        while let next = held.first {
            if service.options.limitsStreamingBandwidth {
                let elapsed = Double(FunctionService.nanoseconds(ContinuousClock.now - beganAt)) / 1e9
                let allowed = 6_291_456 + Int(elapsed * 2_097_152)
                if forwarded + next.count > allowed {
                    guard !flushScheduled else { return }
                    flushScheduled = true
                    let wait = Double(forwarded + next.count - allowed) / 2_097_152
                    service.loop.scheduleTask(in: .nanoseconds(Int64(wait * 1e9) + 1_000_000)) { [self] in
                        flushScheduled = false
                        flush(observer)
                    }
                    return
                }
            }
            held.removeFirst()
            forwarded += next.count
            observer.chunk(next)
        }
        if let ended {
            self.ended = nil
            ended()
        }
    }

    func end(trailers: HTTPHeaders?, responder: HTTPResponder) {
        guard let pending, isCurrent else {
            return responder.send(
                HTTPReply(
                    status: .badRequest,
                    json: FunctionService.errorDocument(type: "InvalidRequestID", message: "Invalid request ID")))
        }
        responder.send(HTTPReply(status: .accepted, json: Array(#"{"status":"OK"}"#.utf8)))
        let result: InvocationResult
        var status: String? = nil
        if let type = trailers?.first(name: "Lambda-Runtime-Function-Error-Type") {
            let body = trailers?.first(name: "Lambda-Runtime-Function-Error-Body").flatMap { Data(base64Encoded: $0) }
                .map { Array($0) }
            result = .functionError(
                type: type,
                document: body ?? FunctionService.errorDocument(type: type, message: "The function failed mid-stream."))
            status = "error\tError Type: \(type)"
        } else if let tooLarge {
            let type = "Function.ResponseSizeTooLarge"
            result = .functionError(type: type, document: FunctionService.errorDocument(type: type, message: tooLarge))
            status = "error\tError Type: \(type)"
        } else {
            result = .response(pending.observer == nil ? collected : [])
        }
        let finish = { [service] in service.completeWithLogs(pending, with: result, status: status) }
        if held.isEmpty { finish() } else { ended = finish }
    }

    func abort() {
        guard let pending, isCurrent else { return }
        let type = "Runtime.TruncatedResponse"
        service.completeWithLogs(
            pending,
            with: .functionError(
                type: type,
                document: FunctionService.errorDocument(
                    type: type, message: "The runtime's streamed response ended without its last chunk.")),
            status: "error\tError Type: \(type)")
    }
}
