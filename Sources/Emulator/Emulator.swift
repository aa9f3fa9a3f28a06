import FlintJSON
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local Lambda service for one or more functions: the Invoke API for callers, and for each execution
/// environment a child process with its own Runtime API endpoint.
///
/// Everything runs on one event loop thread: an invocation crosses no thread between the caller's connection and
/// the runtime's. `run` serves until `shutDown()` is called (the CLI calls it on SIGINT/SIGTERM): new invocations
/// are then refused, in-flight ones finish, and every child process is stopped before `run` returns.
///
/// ```swift
/// let emulator = Emulator(functions: [echo], options: EmulatorOptions())
/// try await emulator.run { port in print("listening on \(port)") }
/// ```
public final class Emulator: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: any EventLoop
    private let services: [String: FunctionService]
    private let options: EmulatorOptions
    private let stopSignal = AsyncStream.makeStream(of: Void.self)
    /// The cgroups environments run in, when `options.resourceLimits` asked for them and the hierarchy allows.
    private let limits: ResourceLimits?
    /// Why the environments run without limits although they were asked for, in one line.
    public let resourceLimitsUnavailable: String?

    /// Prepares the emulator; nothing starts until `run`. With `options.resourceLimits`, it creates its cgroups
    /// now (``resourceLimitsUnavailable`` says why it could not).
    public init(functions: [FunctionDefinition], options: EmulatorOptions) {
        self.options = options
        self.loop = group.next()
        var limits: ResourceLimits? = nil
        var unavailable: String? = nil
        if options.resourceLimits {
            switch ResourceLimits.open() {
            case .success(let opened): limits = opened
            case .failure(let reason): unavailable = reason.description
            }
        }
        self.limits = limits
        self.resourceLimitsUnavailable = unavailable
        let sink = LogSink(enabled: options.printsLogs)
        var services: [String: FunctionService] = [:]
        for function in functions {
            services[function.name] = FunctionService(
                loop: loop, definition: function, options: options, sink: sink, limits: limits)
        }
        self.services = services
    }

    deinit {
        group.shutdownGracefully { _ in }
    }

    /// Serves until `shutDown()`; `onReady` gets the Invoke API's port once it listens.
    public func run(onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let channel: any Channel
        do {
            channel = try await HTTPServer.bind(
                on: loop, host: options.host, port: options.port,
                limit: InvokeAPI.limit, route: { [self] in route($0, $1) }
            ).get()
        } catch {
            throw EmulatorError.bindFailed("cannot listen on \(options.host):\(options.port): \(error)")
        }
        let services = Array(self.services.values)
        let period = TimeAmount.nanoseconds(min(1_000_000_000, FunctionService.nanoseconds(options.idleTimeout) / 2))
        let reaper = try await loop.submit {
            for service in services { service.provision() }
            return self.loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                for service in services { service.reapIdleEnvironments() }
            }
        }.get()
        onReady(channel.localAddress?.port ?? 0)

        for await _ in stopSignal.stream { break }
        try? await channel.close()
        let stopped = loop.makePromise(of: Void.self)
        loop.execute {
            reaper.cancel()
            var remaining = services.count
            if remaining == 0 { stopped.succeed() }
            for service in services {
                service.beginShutdown {
                    remaining -= 1
                    if remaining == 0 { stopped.succeed() }
                }
            }
        }
        try await stopped.futureResult.get()
        limits?.close()
    }

    /// Begins an orderly stop: refuse new invocations, finish in-flight ones, stop every environment.
    public func shutDown() {
        stopSignal.continuation.yield()
        stopSignal.continuation.finish()
    }

    private func route(_ message: HTTPMessage, _ responder: HTTPResponder) {
        let path = message.path
        let parts = path.split(separator: "/")
        if message.head.method == .POST, parts.count == 4, parts[0] == "2015-03-31", parts[1] == "functions",
            parts[3] == "invocations"
        {
            let name = String(parts[2])
            return InvokeAPI.invoke(
                message, name: name, service: service(named: name), emulator: self, respond: responder.send)
        }
        if message.head.method == .POST, parts.count == 4, parts[0] == "2021-11-15", parts[1] == "functions",
            parts[3] == "response-streaming-invocations"
        {
            let name = String(parts[2])
            return InvokeAPI.invokeStreaming(
                message, name: name, service: service(named: name), emulator: self, responder: responder)
        }
        if parts.count >= 2, parts[0] == "url" {
            let name = String(parts[1])
            return FunctionURL.relay(
                message, name: name, service: service(named: name), emulator: self, responder: responder)
        }
        if message.head.method == .GET, path == "/stats" {
            return responder.send(HTTPReply(status: .ok, json: statistics().jsonBytes))
        }
        responder.send(ServiceError.notFoundPath("\(message.head.method) \(path)").reply)
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

    private func statistics() -> JSONValue {
        var functions: [String: JSONValue] = [:]
        for (name, service) in services {
            functions[name] = service.statistics.json(
                environments: service.environmentCount, queued: service.queuedCount)
        }
        return .object(["functions": .object(functions)])
    }
}
