import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Starting, stopping and reaping execution environments, and what their exits mean for invocations.
extension FunctionService {
    /// Starts one environment in the background: its Runtime API endpoint, then its process.
    func startEnvironment(provisioned: Bool, trigger: String?) {
        let environment = ExecutionEnvironment(id: nextEnvironmentID, provisioned: provisioned, trigger: trigger)
        nextEnvironmentID += 1
        environments[environment.id] = environment
        statistics.record(coldStart: ())
        RuntimeServer.start(service: self, environmentID: environment.id).whenComplete { [self] result in
            switch result {
            case .success(let server):
                launch(environment, server: server)
                loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(options.initTimeout))) { [self] in
                    initDeadlinePassed(environment.id)
                }
            case .failure(let error):
                discard(
                    environment, failing: "Runtime.Unknown", message: "cannot open a Runtime API endpoint: \(error)")
            }
        }
    }

    private func launch(_ environment: ExecutionEnvironment, server: RuntimeServer) {
        environment.server = server
        guard environments[environment.id] === environment, environment.state != .stopping else {
            server.stop()
            return
        }
        let id = environment.id
        let prefix = "[\(definition.name)/env-\(id)] "
        let sink = self.sink
        let loop = self.loop
        do {
            environment.startedAt = .now
            if let limits {
                environment.cgroup = try limits.group(
                    named: "\(definition.name)-env-\(id)", memoryMegabytes: definition.memoryMegabytes)
            }
            environment.process = try ChildProcess(
                executable: definition.executable, arguments: definition.arguments,
                environment: variables(for: environment, endpoint: "127.0.0.1:\(server.port)"),
                directory: definition.taskRoot, cgroups: environment.cgroup?.procs ?? [],
                onLine: { [weak self] line, _ in
                    sink.print(prefix + line)
                    loop.execute { self?.output(line, environmentID: id) }
                },
                onExit: { [weak self] termination in loop.execute { self?.environmentExited(id, termination) } })
        } catch {
            server.stop()
            environment.cgroup?.remove()
            discard(environment, failing: "Runtime.InvalidEntrypoint", message: "\(error)")
        }
    }

    /// The variables Lambda gives a `provided.*` runtime, plus the function's own.
    func variables(for environment: ExecutionEnvironment, endpoint: String) -> [String: String] {
        let root = definition.runtimeTaskRoot ?? definition.taskRoot
        let day = ISO8601DateFormatter.string(
            from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate]
        )
        .replacingOccurrences(of: "-", with: "/")
        let stream = "\(day)/[$LATEST]" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var variables = definition.environment
        let platform: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": endpoint,
            "_HANDLER": definition.handler,
            "LAMBDA_TASK_ROOT": root,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "AWS_LAMBDA_FUNCTION_NAME": definition.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(definition.memoryMegabytes),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(definition.name)",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": options.region,
            "AWS_DEFAULT_REGION": options.region,
            "AWS_LAMBDA_INITIALIZATION_TYPE": options.perEnvironmentConcurrency > 1
                ? "lambda-managed-instances"
                : environment.provisioned ? "provisioned-concurrency" : "on-demand",
        ]
        variables.merge(platform) { _, platform in platform }
        // Values a customer may override in Lambda.
        let overridable: [String: String] = [
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LD_LIBRARY_PATH":
                "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:\(root):\(root)/lib:/opt/lib",
        ]
        variables.merge(overridable) { customer, _ in customer }
        if options.perEnvironmentConcurrency > 1 {
            variables["AWS_LAMBDA_MAX_CONCURRENCY"] = String(options.perEnvironmentConcurrency)
        }
        return variables
    }

    private func initDeadlinePassed(_ id: Int) {
        guard let environment = environments[id], environment.state == .starting else { return }
        environment.initTimedOut = true
        sink.print("[\(definition.name)/env-\(id)] init did not finish within the init timeout; stopping it")
        stop(environment)
    }

    /// Stops an environment on purpose; its exit then fails only what it still had in flight.
    func stop(_ environment: ExecutionEnvironment) {
        let wasStarting = environment.state == .starting
        environment.state = .stopping
        if wasStarting && environment.process == nil {
            // Still opening its endpoint: nothing to kill yet; launch() sees `.stopping` and gives up.
            discard(environment, failing: nil, message: "")
            return
        }
        environment.process?.send(SIGKILL)
    }

    /// Removes an environment that never ran a process, failing its trigger invocation if asked.
    private func discard(_ environment: ExecutionEnvironment, failing type: String?, message: String) {
        environments[environment.id] = nil
        environment.server?.stop()
        if let type, let trigger = environment.trigger {
            fail(
                queued: trigger,
                with: .functionError(type: type, document: Self.errorDocument(type: type, message: message)))
        }
        for waiter in environment.waiters { waiter.deliver(nil) }
        environment.waiters.removeAll()
        pump()
        if shuttingDown { checkStopped() }
    }

    /// The process ended: fail what it had in flight (or the invocation that started it, if init never finished).
    /// A process the kernel killed at its memory limit fails them with `Runtime.OutOfMemory`, as Lambda does.
    func environmentExited(_ id: Int, _ termination: ChildProcess.Termination) {
        guard let environment = environments[id] else { return }
        environments[id] = nil
        environment.server?.stop()
        let outOfMemory = environment.cgroup?.killedForMemory ?? false
        if outOfMemory { environment.peakResidentBytes = definition.memoryMegabytes * 1_048_576 }
        environment.cgroup?.remove()
        for waiter in environment.waiters { waiter.deliver(nil) }
        environment.waiters.removeAll()
        let expected = environment.state == .stopping && !environment.initTimedOut

        if environment.initDuration == nil {
            // Init never finished: the triggering invocation fails with the init error, or with the exit.
            let elapsed = ContinuousClock.now - environment.startedAt
            let status = environment.initTimedOut ? "timeout" : "error"
            let (type, document): (String, [UInt8])
            if let initError = environment.initError {
                (type, document) = initError
            } else if environment.initTimedOut {
                type = "Sandbox.Timedout"
                document = Self.errorDocument(
                    type: type, message: "INIT timed out after \(Self.seconds(options.initTimeout)) seconds")
            } else {
                type = outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError"
                document = Self.errorDocument(type: type, message: "Runtime exited with error: \(termination)")
            }
            if !expected || environment.initTimedOut {
                sink.print(
                    "INIT_REPORT Init Duration: \(Self.milliseconds(elapsed)) ms\tPhase: init\tStatus: \(status)\tError Type: \(type)"
                )
                statistics.record(crash: ())
                if let trigger = environment.trigger {
                    fail(queued: trigger, with: .functionError(type: type, document: document))
                }
            }
        } else if !expected {
            statistics.record(crash: ())
        }
        for requestID in environment.inFlight {
            guard let pending = inFlight[requestID] else { continue }
            let type = outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError"
            let message = "RequestId: \(requestID) Error: Runtime exited with error: \(termination)"
            complete(
                pending, with: .functionError(type: type, document: Self.errorDocument(type: type, message: message)),
                status: "error\tError Type: \(type)", exited: environment)
        }
        pump()
        if shuttingDown { checkStopped() }
    }

    /// Stops on-demand environments idle for longer than the idle timeout.
    func reapIdleEnvironments() {
        let cutoff = ContinuousClock.now - options.idleTimeout
        for environment in environments.values
        where environment.isIdle && !environment.provisioned && environment.idleSince <= cutoff {
            sink.print(
                "[\(definition.name)/env-\(environment.id)] idle for \(Self.seconds(options.idleTimeout)) s; stopping it"
            )
            stop(environment)
        }
    }

    /// Starts the provisioned environments.
    func provision() {
        for _ in 0..<min(options.provisioned, options.maxConcurrency) {
            startEnvironment(provisioned: true, trigger: nil)
        }
    }

    /// Refuses new invocations and fails queued ones; in-flight ones finish (each is bounded by the timeout), then
    /// every environment is stopped. `onStopped` runs once nothing is left.
    func beginShutdown(onStopped: @escaping () -> Void) {
        shuttingDown = true
        self.onStopped = onStopped
        for pending in queue { fail(queued: pending.requestID, with: .serviceError(.shuttingDown)) }
        checkStopped()
    }

    func checkStopped() {
        guard inFlight.isEmpty else { return }
        for environment in environments.values where environment.state != .stopping { stop(environment) }
        if environments.isEmpty, let onStopped {
            self.onStopped = nil
            onStopped()
        }
    }

    var environmentCount: Int { environments.count }
    var queuedCount: Int { queue.count }

    static func milliseconds(_ duration: Duration) -> String { format(Double(nanoseconds(duration)) / 1e6) }
}
