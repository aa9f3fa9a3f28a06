import FlintJSON
import Foundation
import NIOCore
import NIOHTTP1

/// A Function-URL-style endpoint, `ANY /url/{function}/{path...}`, in `RESPONSE_STREAM` mode: the request becomes an
/// HTTP API payload 2.0 event; a streamed answer with the HTTP prelude gives the status, headers and cookies, and
/// its body reaches the client chunk by chunk as the function writes it (curl shows them as they arrive). A
/// buffered answer in the payload 2.0 response shape (`statusCode`, `headers`, `body`, `isBase64Encoded`) is
/// answered as Lambda's URLs do; any other buffered answer is a 200 JSON body. A failure before the first byte is
/// a 502; after it, the body just ends, as Lambda's URLs do. No authorisation (a local tool).
enum FunctionURL {
    static let preludeContentType = "application/vnd.awslambda.http-integration-response"

    static func relay(
        _ message: HTTPMessage, name: String, service: FunctionService?, emulator: Emulator, responder: HTTPResponder
    ) {
        guard let service else { return responder.send(ServiceError.notFound(emulator.arn(for: name)).reply) }
        guard !message.isOversize else {
            return responder.send(
                ServiceError.tooLarge(message.receivedBytes, limit: FunctionService.maximumRequestBytes).reply)
        }
        let event = payload(message, prefix: "/url/\(name)", service: service)
        let invocation = InvocationRequest(
            payload: event.jsonBytes, clientContext: nil, traceID: message.header("X-Amzn-Trace-Id"),
            tenantID: nil, wantsLogTail: false)
        var opened = false
        var preludeBuffer: [UInt8]? = nil  // non-nil while the prelude is still being read
        func open(status: HTTPResponseStatus, headers: HTTPHeaders) {
            opened = true
            responder.sendHead(status: status, headers: headers)
        }
        let observer = StreamObserver(
            start: { contentType in
                if contentType == preludeContentType {
                    preludeBuffer = []
                } else {
                    open(status: .ok, headers: ["Content-Type": contentType ?? "application/octet-stream"])
                }
            },
            chunk: { bytes in
                guard var buffer = preludeBuffer else { return responder.sendChunk(ByteBuffer(bytes: bytes)) }
                buffer += bytes
                let delimiter = [UInt8](repeating: 0, count: 8)
                guard let end = buffer.firstRange(of: delimiter) else {
                    preludeBuffer = buffer
                    return
                }
                preludeBuffer = nil
                let prelude = (try? JSONValue(parsing: Array(buffer[..<end.lowerBound]))) ?? .object([:])
                var headers = HTTPHeaders()
                for (key, value) in prelude["headers"]?.object ?? [:] {
                    if let text = value.string { headers.add(name: key, value: text) }
                }
                for cookie in prelude["cookies"]?.array ?? [] {
                    if let text = cookie.string { headers.add(name: "Set-Cookie", value: text) }
                }
                open(status: HTTPResponseStatus(statusCode: prelude["statusCode"]?.integer ?? 200), headers: headers)
                let rest = Array(buffer[end.upperBound...])
                if !rest.isEmpty { responder.sendChunk(ByteBuffer(bytes: rest)) }
            })
        service.invoke(invocation, observer: observer) { outcome in
            if opened { return responder.sendEnd() }
            switch outcome.result {
            case .response(let body):
                responder.send(buffered(body))
            case .functionError:
                responder.send(
                    HTTPReply(status: .badGateway, json: Array(#"{"Message":"Internal Server Error"}"#.utf8)))
            case .serviceError(let error):
                responder.send(error.reply)
            }
        }
    }

    /// The HTTP API payload 2.0 event for a request.
    static func payload(_ message: HTTPMessage, prefix: String, service: FunctionService) -> JSONValue {
        let uri = message.head.uri
        let pathAndQuery = uri.hasPrefix(prefix) ? String(uri.dropFirst(prefix.count)) : uri
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map { $0.isEmpty ? "/" : String($0) } ?? "/"
        var headers: [String: JSONValue] = [:]
        for (name, value) in message.head.headers { headers[name.lowercased()] = .string(value) }
        let body = message.bytes
        let text = String(validating: body, as: UTF8.self)
        return .object([
            "version": .string("2.0"), "routeKey": .string("$default"), "rawPath": .string(path),
            "rawQueryString": .string(parts.count > 1 ? String(parts[1]) : ""), "headers": .object(headers),
            "requestContext": .object([
                "http": .object([
                    "method": .string(message.head.method.rawValue), "path": .string(path),
                    "protocol": .string("HTTP/1.1"), "sourceIp": .string("127.0.0.1"),
                    "userAgent": .string(message.header("User-Agent") ?? ""),
                ]),
                "requestId": .string(UUID().uuidString.lowercased()), "routeKey": .string("$default"),
                "stage": .string("$default"),
                "timeEpoch": .number((Date().timeIntervalSince1970 * 1000).rounded()),
            ]),
            "body": .string(text ?? Data(body).base64EncodedString()), "isBase64Encoded": .bool(text == nil),
        ])
    }

    /// A buffered answer as a Function URL returns it.
    static func buffered(_ body: [UInt8]) -> HTTPReply {
        guard let document = try? JSONValue(parsing: body), let status = document["statusCode"]?.integer else {
            return HTTPReply(status: .ok, json: body)
        }
        var headers = HTTPHeaders()
        for (key, value) in document["headers"]?.object ?? [:] {
            if let text = value.string { headers.add(name: key, value: text) }
        }
        for cookie in document["cookies"]?.array ?? [] {
            if let text = cookie.string { headers.add(name: "Set-Cookie", value: text) }
        }
        let text = document["body"]?.string ?? ""
        let bytes =
            document["isBase64Encoded"]?.bool == true ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)
        return HTTPReply(
            status: HTTPResponseStatus(statusCode: status), headers: headers, body: ByteBuffer(bytes: bytes))
    }
}
