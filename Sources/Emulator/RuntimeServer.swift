import Foundation
import NIOCore
import NIOHTTP1

/// One environment's Runtime API endpoint (2018-06-01) on an ephemeral loopback port, on the service's loop.
///
/// Routes requests to the function service with the environment's id; it keeps no state of its own.
final class RuntimeServer: Sendable {
    let port: Int
    private let channel: any Channel

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    func stop() {
        channel.close(promise: nil)
    }

    private static let prefix = "/2018-06-01/runtime/"

    static func start(service: FunctionService, environmentID: Int) -> EventLoopFuture<RuntimeServer> {
        HTTPServer.bind(
            on: service.loop, host: "127.0.0.1", port: 0,
            limit: { head in
                // Read one byte past the response limit, to know it was exceeded; error documents are capped at 1 MiB.
                head.uri.hasSuffix("/response") ? FunctionService.maximumResponseBytes + 1 : 1 << 20
            },
            route: { message, responder in
                route(message, responder, service: service, environmentID: environmentID)
            },
            streamer: { head in
                // A streamed answer is relayed as it arrives instead of collected.
                guard head.method == .POST,
                    head.headers.first(name: "Lambda-Runtime-Function-Response-Mode") == "streaming",
                    head.uri.hasPrefix(prefix + "invocation/"), head.uri.hasSuffix("/response")
                else { return nil }
                let id = String(head.uri.dropFirst((prefix + "invocation/").count).dropLast("/response".count))
                return service.streamBody(
                    environmentID: environmentID, requestID: id.removingPercentEncoding ?? id,
                    contentType: head.headers.first(name: "Content-Type"))
            }
        ).flatMapThrowing { channel in
            guard let port = channel.localAddress?.port else { throw EmulatorError.bindFailed("no local port") }
            return RuntimeServer(port: port, channel: channel)
        }
    }

    private static func route(
        _ message: HTTPMessage, _ responder: HTTPResponder, service: FunctionService, environmentID: Int
    ) {
        let path = message.path
        guard path.hasPrefix(prefix) else {
            return responder.send(reply(.error(404, "NotFound", "No such path: \(path)")))
        }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        switch (message.head.method, parts.count, parts.first, parts.last) {
        case (.GET, 2, "invocation", "next"):
            let token = service.next(environmentID: environmentID) { dispatch in
                guard let dispatch else {
                    return responder.send(
                        reply(.error(500, "InternalServerError", "The execution environment is shutting down")))
                }
                var headers: HTTPHeaders = [
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": dispatch.requestID,
                    "Lambda-Runtime-Deadline-Ms": String(dispatch.deadlineMilliseconds),
                    "Lambda-Runtime-Invoked-Function-Arn": dispatch.functionARN,
                    "Lambda-Runtime-Trace-Id": dispatch.traceID,
                ]
                if let context = dispatch.clientContext {
                    headers.add(name: "Lambda-Runtime-Client-Context", value: context)
                }
                if let tenant = dispatch.tenantID { headers.add(name: "Lambda-Runtime-Aws-Tenant-Id", value: tenant) }
                responder.send(HTTPReply(status: .ok, headers: headers, body: ByteBuffer(bytes: dispatch.payload)))
            }
            if let token {
                responder.onClose = { service.withdraw(environmentID: environmentID, token: token) }
            }
        case (.POST, 3, "invocation", "response"):
            let id = String(parts[1])
            let declared = message.header("Content-Length").flatMap { Int($0) }
            responder.send(
                reply(
                    service.respond(
                        environmentID: environmentID, requestID: id, body: message.isOversize ? nil : message.bytes,
                        declaredSize: declared ?? message.receivedBytes,
                        responseMode: message.header("Lambda-Runtime-Function-Response-Mode"))))
        case (.POST, 3, "invocation", "error"):
            responder.send(
                reply(
                    service.reportError(
                        environmentID: environmentID, requestID: String(parts[1]),
                        typeHeader: message.header("Lambda-Runtime-Function-Error-Type"), body: message.bytes)))
        case (.POST, 2, "init", "error"):
            responder.send(
                reply(
                    service.reportInitError(
                        environmentID: environmentID, typeHeader: message.header("Lambda-Runtime-Function-Error-Type"),
                        body: message.bytes)))
        default:
            responder.send(reply(.error(404, "NotFound", "No such Runtime API route: \(message.head.method) \(path)")))
        }
    }

    private static func reply(_ reply: FunctionService.RuntimeReply) -> HTTPReply {
        HTTPReply(status: HTTPResponseStatus(statusCode: reply.status), json: reply.document)
    }
}
