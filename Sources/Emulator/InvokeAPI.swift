import FlintJSON
import Foundation
import NIOCore
import NIOHTTP1

/// The Invoke API (`POST /2015-03-31/functions/{name}/invocations`) as Lambda answers it.
///
/// `RequestResponse` waits for the result: 200 with the response, or 200 with `X-Amz-Function-Error: Unhandled`
/// and the error document. `Event` answers 202 at once and runs the invocation with Lambda's retry policy (two
/// retries after a function error). `DryRun` answers 204. Service errors carry Lambda's names and statuses.
enum InvokeAPI {
    /// Body limit by invocation type: 1 MB for `Event`, 6 MB otherwise (one byte more is read to detect overflow).
    static func limit(_ head: HTTPRequestHead) -> Int {
        head.headers.first(name: "X-Amz-Invocation-Type") == "Event"
            ? FunctionService.maximumAsyncRequestBytes : FunctionService.maximumRequestBytes
    }

    static func invoke(
        _ message: HTTPMessage, name: String, service: FunctionService?, emulator: Emulator,
        respond: @escaping (HTTPReply) -> Void
    ) {
        guard let service else { return respond(ServiceError.notFound(emulator.arn(for: name)).reply) }
        let type = message.header("X-Amz-Invocation-Type") ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(type) else {
            return respond(
                ServiceError.invalidRequest(
                    "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '\(type)'"
                ).reply)
        }
        guard !message.isOversize else {
            return respond(ServiceError.tooLarge(message.receivedBytes, limit: limit(message.head)).reply)
        }
        if type == "DryRun" { return respond(HTTPReply(status: .noContent)) }

        var clientContext: String? = nil
        if let encoded = message.header("X-Amz-Client-Context"), !encoded.isEmpty {
            guard encoded.utf8.count <= 3583, let data = Data(base64Encoded: encoded),
                let text = String(data: data, encoding: .utf8)
            else {
                return respond(
                    ServiceError.invalidRequest(
                        "Client context must be a valid Base64-encoded JSON object of at most 3583 bytes."
                    ).reply)
            }
            clientContext = text
        }
        let invocation = InvocationRequest(
            payload: message.bytes, clientContext: clientContext, traceID: message.header("X-Amzn-Trace-Id"),
            tenantID: message.header("X-Amz-Tenant-Id"), wantsLogTail: message.header("X-Amz-Log-Type") == "Tail")

        if type == "Event" {
            runAsync(invocation, on: service, retryDelays: emulator.asyncRetryDelays)
            return respond(HTTPReply(status: .accepted, headers: ["X-Amzn-RequestId": service.identifiers.requestID()]))
        }
        service.invoke(invocation) { outcome in
            var headers: HTTPHeaders = ["Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"]
            if !outcome.requestID.isEmpty { headers.add(name: "X-Amzn-RequestId", value: outcome.requestID) }
            if let tail = outcome.logTail {
                headers.add(name: "X-Amz-Log-Result", value: Data(tail.utf8).base64EncodedString())
            }
            switch outcome.result {
            case .response(let body):
                respond(HTTPReply(status: .ok, headers: headers, body: ByteBuffer(bytes: body)))
            case .functionError(_, let document):
                headers.add(name: "X-Amz-Function-Error", value: "Unhandled")
                respond(HTTPReply(status: .ok, headers: headers, body: ByteBuffer(bytes: document)))
            case .serviceError(let error):
                respond(error.reply)
            }
        }
    }

    /// `InvokeWithResponseStream` (`POST /2021-11-15/functions/{name}/response-streaming-invocations`): the
    /// answer as event-stream messages, `PayloadChunk` per part as the runtime streams it (or one for a buffered
    /// answer), then `InvokeComplete` with `ErrorCode` / `ErrorDetails` for a failure (before or mid-stream) and
    /// `LogResult` for `X-Amz-Log-Type: Tail`. Service errors before the stream starts are plain error replies.
    static func invokeStreaming(
        _ message: HTTPMessage, name: String, service: FunctionService?, emulator: Emulator,
        responder: HTTPResponder
    ) {
        guard let service else { return responder.send(ServiceError.notFound(emulator.arn(for: name)).reply) }
        guard !message.isOversize else {
            return responder.send(ServiceError.tooLarge(message.receivedBytes, limit: limit(message.head)).reply)
        }
        let invocation = InvocationRequest(
            payload: message.bytes, clientContext: nil, traceID: message.header("X-Amzn-Trace-Id"),
            tenantID: message.header("X-Amz-Tenant-Id"), wantsLogTail: message.header("X-Amz-Log-Type") == "Tail")
        var headers: HTTPHeaders = [
            "Content-Type": "application/vnd.amazon.eventstream", "X-Amz-Executed-Version": "$LATEST",
        ]
        var opened = false
        func open() {
            guard !opened else { return }
            opened = true
            responder.sendHead(status: .ok, headers: headers)
        }
        func send(_ event: String, _ contentType: String, _ payload: [UInt8]) {
            responder.sendChunk(ByteBuffer(bytes: EventStream.event(event, contentType: contentType, payload: payload)))
        }
        let observer = StreamObserver(
            start: { _ in open() }, chunk: { send("PayloadChunk", "application/octet-stream", $0) })
        service.invoke(invocation, observer: observer) { outcome in
            if !outcome.requestID.isEmpty, !opened { headers.add(name: "X-Amzn-RequestId", value: outcome.requestID) }
            var complete: [String: JSONValue] = [:]
            switch outcome.result {
            case .serviceError(let error) where !opened:
                return responder.send(error.reply)
            case .serviceError(let error):
                complete["ErrorCode"] = .string(error.name)
            case .response(let body):
                open()
                if !body.isEmpty { send("PayloadChunk", "application/octet-stream", body) }
            case .functionError(let type, let document):
                open()
                complete["ErrorCode"] = .string(type)
                complete["ErrorDetails"] = .string(String(decoding: document, as: UTF8.self))
            }
            open()
            if let tail = outcome.logTail { complete["LogResult"] = .string(Data(tail.utf8).base64EncodedString()) }
            send("InvokeComplete", "application/json", JSONValue.object(complete).jsonBytes)
            responder.sendEnd()
        }
    }

    /// Lambda's asynchronous policy: after a function error, retry, waiting `retryDelays[i]` before retry i.
    private static func runAsync(
        _ invocation: InvocationRequest, on service: FunctionService, retryDelays: [Duration], attempt: Int = 0
    ) {
        service.invoke(invocation) { outcome in
            guard case .functionError = outcome.result, attempt < retryDelays.count else { return }
            service.statistics.record(asyncRetry: ())
            service.loop.scheduleTask(in: .nanoseconds(FunctionService.nanoseconds(retryDelays[attempt]))) {
                runAsync(invocation, on: service, retryDelays: retryDelays, attempt: attempt + 1)
            }
        }
    }
}
