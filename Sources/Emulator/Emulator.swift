import Foundation
import FlintJSON
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A local Lambda service for one or more functions: the Invoke API for callers, and for each execution
/// environment a child process with its own Runtime API endpoint.
///
/// `run` serves until `shutDown()` is called (the CLI calls it on SIGINT/SIGTERM): new invocations are then
/// refused, in-flight ones finish, and every child process is stopped before `run` returns.
///
/// ```swift
/// let emulator = Emulator(functions: [echo], options: EmulatorOptions())
/// try await emulator.run { port in print("listening on \(port)") }
/// ```
public final class Emulator: Sendable {
    private let services: [String: FunctionService]
    private let options: EmulatorOptions
    private let sink: LogSink
    private let stopSignal = AsyncStream.makeStream(of: Void.self)

    /// Prepares the emulator; nothing starts until `run`.
    public init(functions: [FunctionDefinition], options: EmulatorOptions) {
        self.options = options
        self.sink = LogSink(enabled: options.printsLogs)
        var services: [String: FunctionService] = [:]
        for function in functions {
            services[function.name] = FunctionService(definition: function, options: options, sink: sink)
        }
        self.services = services
    }

    /// Serves until `shutDown()`; `onReady` gets the Invoke API's port once it listens.
    public func run(onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router()
        router.post("/2015-03-31/functions/:name/invocations") { [self] request, context -> Response in
            try await InvokeAPI.invoke(request: request, name: context.parameters.get("name") ?? "", emulator: self)
        }
        router.get("/stats") { [self] _, _ -> Response in
            await statisticsResponse()
        }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "flint.emulator", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        for service in services.values { await service.provision() }
        let reaper = Task {
            let period = min(Duration.seconds(1), options.idleTimeout / 2)
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                for service in services.values { await service.reapIdleEnvironments() }
            }
        }
        let server = Task { try await application.run() }
        for await _ in stopSignal.stream { break }
        for service in services.values { await service.shutDown() }
        reaper.cancel()
        server.cancel()
        _ = await server.result
    }

    /// Begins an orderly stop: refuse new invocations, finish in-flight ones, stop every environment.
    public func shutDown() {
        stopSignal.continuation.yield()
        stopSignal.continuation.finish()
    }

    /// The function a path names: its name, an ARN, `name:qualifier`, or `function` when only one function runs
    /// (as AWS's own emulator accepts).
    func service(named raw: String) -> FunctionService? {
        var name = raw.removingPercentEncoding ?? raw
        if name.hasPrefix("arn:") {
            let parts = name.split(separator: ":", omittingEmptySubsequences: false)
            name = parts.count >= 7 ? String(parts[6]) : name
        } else if let colon = name.firstIndex(of: ":") {
            name = String(name[..<colon])
        }
        if let service = services[name] { return service }
        if name == "function" && services.count == 1 { return services.values.first }
        return nil
    }

    func arn(for name: String) -> String {
        "arn:aws:lambda:\(options.region):\(options.accountID):function:\(name)"
    }

    var asyncRetryDelays: [Duration] { options.asyncRetryDelays }

    private func statisticsResponse() async -> Response {
        var functions: [String: JSONValue] = [:]
        for (name, service) in services {
            let environments = await service.environmentCount
            let queued = await service.queuedCount
            functions[name] = service.statistics.json(environments: environments, queued: queued)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(["functions": .object(functions)]).jsonBytes)))
    }
}
