import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// One environment's Runtime API endpoint (2018-06-01) on an ephemeral loopback port.
///
/// Routes requests to the function service with the environment's id; it keeps no state of its own.
final class RuntimeServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    func stop() {
        task.cancel()
    }

    static func start(service: FunctionService, environmentID: Int) async throws -> RuntimeServer {
        let router = Router()
        let prefix = "/2018-06-01/runtime"
        router.get("\(prefix)/invocation/next") { _, _ -> Response in
            guard let dispatch = await service.next(environmentID: environmentID) else {
                return reply(.error(500, "InternalServerError", "The execution environment is shutting down"))
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = dispatch.requestID
            headers[HTTPField.Name("Lambda-Runtime-Deadline-Ms")!] = String(dispatch.deadlineMilliseconds)
            headers[HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!] = dispatch.functionARN
            headers[HTTPField.Name("Lambda-Runtime-Trace-Id")!] = dispatch.traceID
            if let context = dispatch.clientContext { headers[HTTPField.Name("Lambda-Runtime-Client-Context")!] = context }
            if let tenant = dispatch.tenantID { headers[HTTPField.Name("Lambda-Runtime-Aws-Tenant-Id")!] = tenant }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: dispatch.payload)))
        }
        router.post("\(prefix)/invocation/:id/response") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            var request = request
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            let body = try? await request.collectBody(upTo: FunctionService.maximumResponseBytes + 1)
            let mode = request.headers[HTTPField.Name("Lambda-Runtime-Function-Response-Mode")!]
            return reply(await service.respond(environmentID: environmentID, requestID: id,
                                               body: body.map { Array(buffer: $0) }, declaredSize: declared, responseMode: mode))
        }
        router.post("\(prefix)/invocation/:id/error") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            var request = request
            let body = (try? await request.collectBody(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            return reply(await service.reportError(environmentID: environmentID, requestID: id, typeHeader: type, body: body))
        }
        router.post("\(prefix)/init/error") { request, _ -> Response in
            var request = request
            let body = (try? await request.collectBody(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            return reply(await service.reportInitError(environmentID: environmentID, typeHeader: type, body: body))
        }

        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "flint.emulator.runtime-api", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let task = Task { try await application.run() }
        var port = 0
        for await bound in portStream { port = bound }
        guard port > 0 else {
            task.cancel()
            throw EmulatorError.bindFailed("the Runtime API endpoint did not start")
        }
        return RuntimeServer(port: port, task: task)
    }

    private static func reply(_ reply: FunctionService.RuntimeReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: reply.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: reply.document)))
    }
}
