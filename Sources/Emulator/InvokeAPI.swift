import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The Invoke API (`POST /2015-03-31/functions/{name}/invocations`) as Lambda answers it.
///
/// `RequestResponse` waits for the result: 200 with the response, or 200 with `X-Amz-Function-Error: Unhandled`
/// and the error document. `Event` answers 202 at once and runs the invocation with Lambda's retry policy (two
/// retries after a function error). `DryRun` answers 204. Service errors carry Lambda's names and statuses.
enum InvokeAPI {
    static func invoke(request: Request, name: String, emulator: Emulator) async throws -> Response {
        guard let service = emulator.service(named: name) else {
            return ServiceError.notFound(emulator.arn(for: name)).response
        }
        let type = request.headers[HTTPField.Name("X-Amz-Invocation-Type")!] ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(type) else {
            return ServiceError.invalidRequest("X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '\(type)'").response
        }
        let limit = type == "Event" ? FunctionService.maximumAsyncRequestBytes : FunctionService.maximumRequestBytes
        var request = request
        let payload: [UInt8]
        do {
            payload = Array(buffer: try await request.collectBody(upTo: limit))
        } catch {
            let size = request.headers[.contentLength].flatMap { Int($0) } ?? (limit + 1)
            return ServiceError.tooLarge(size, limit: limit).response
        }
        if type == "DryRun" { return Response(status: .noContent) }

        var clientContext: String? = nil
        if let encoded = request.headers[HTTPField.Name("X-Amz-Client-Context")!], !encoded.isEmpty {
            guard encoded.utf8.count <= 3583, let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
                return ServiceError.invalidRequest("Client context must be a valid Base64-encoded JSON object of at most 3583 bytes.").response
            }
            clientContext = text
        }
        let invocation = InvocationRequest(
            payload: payload, clientContext: clientContext,
            traceID: request.headers[HTTPField.Name("X-Amzn-Trace-Id")!],
            tenantID: request.headers[HTTPField.Name("X-Amz-Tenant-Id")!],
            wantsLogTail: request.headers[HTTPField.Name("X-Amz-Log-Type")!] == "Tail")

        if type == "Event" {
            let delays = emulator.asyncRetryDelays
            Task {
                var outcome = await service.invoke(invocation)
                for delay in delays {
                    guard case .functionError = outcome.result else { break }
                    service.statistics.record(asyncRetry: ())
                    try? await Task.sleep(for: delay)
                    outcome = await service.invoke(invocation)
                }
            }
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Amzn-RequestId")!] = UUID().uuidString.lowercased()
            return Response(status: .accepted, headers: headers)
        }

        let outcome = await service.invoke(invocation)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("X-Amz-Executed-Version")!] = "$LATEST"
        if !outcome.requestID.isEmpty { headers[HTTPField.Name("X-Amzn-RequestId")!] = outcome.requestID }
        if let tail = outcome.logTail { headers[HTTPField.Name("X-Amz-Log-Result")!] = Data(tail.utf8).base64EncodedString() }
        switch outcome.result {
        case .response(let body):
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        case .functionError(_, let document):
            headers[HTTPField.Name("X-Amz-Function-Error")!] = "Unhandled"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document)))
        case .serviceError(let error):
            return error.response
        }
    }
}
