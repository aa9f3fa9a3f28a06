import FlintJSON
import Foundation
import NIOCore

/// The Lambda service for one function: queues invocations, starts execution environments on demand up to the
/// concurrency limit, hands invocations to environments' `/next`, and turns what runtimes post (or how they die)
/// into Invoke results.
///
/// An invocation goes to an environment that is waiting in `/next`; if none is, and fewer than `maxConcurrency`
/// environments exist, a new one starts (a cold start); otherwise it waits in the queue, or is refused with 429
/// under `ThrottlePolicy.reject`. Every piece of state is confined to one event loop, the same one that runs the
/// Invoke and Runtime API servers, so an invocation crosses no thread inside the emulator.
final class FunctionService: @unchecked Sendable {
    // @unchecked: all mutable state is touched on `loop` only (checked by `loop.assertInEventLoop()`).
    let loop: any EventLoop
    let definition: FunctionDefinition
    let options: EmulatorOptions
    let arn: String
    let sink: LogSink
    let statistics = EmulatorStatistics()

    var environments: [Int: ExecutionEnvironment] = [:]
    var queue: [PendingInvocation] = []
    var inFlight: [String: PendingInvocation] = [:]
    var nextEnvironmentID = 1
    var nextWaiterID = 1
    var shuttingDown = false
    var identifiers = Identifiers()
    /// Called once shutdown has finished (nothing in flight, no environment left).
    var onStopped: (() -> Void)? = nil
    /// Lambda's CPU and memory limits for each environment, when the emulator applies them.
    let limits: ResourceLimits?

    init(
        loop: any EventLoop, definition: FunctionDefinition, options: EmulatorOptions, sink: LogSink,
        limits: ResourceLimits? = nil
    ) {
        self.loop = loop
        self.definition = definition
        self.options = options
        self.sink = sink
        self.limits = limits
        self.arn = "arn:aws:lambda:\(options.region):\(options.accountID):function:\(definition.name)"
    }

    /// The most bytes a synchronous invocation's payload may have (6 MB).
    static let maximumRequestBytes = 6_291_456
    /// The most bytes an asynchronous invocation's payload may have (1 MB since October 2025).
    static let maximumAsyncRequestBytes = 1_048_576
    /// The most bytes a buffered response may have (6 MB + 100).
    static let maximumResponseBytes = 6_291_556

    // MARK: - Invoke side

    /// Runs one invocation; `done` gets its result, exactly once.
    func invoke(
        _ request: InvocationRequest, observer: StreamObserver? = nil, _ done: @escaping (InvocationOutcome) -> Void
    ) {
        loop.assertInEventLoop()
        if shuttingDown {
            return done(InvocationOutcome(requestID: "", result: .serviceError(.shuttingDown), logTail: nil))
        }
        if options.onThrottle == .reject && !canAbsorbAnotherInvocation() {
            statistics.record(throttle: ())
            return done(InvocationOutcome(requestID: "", result: .serviceError(.throttled), logTail: nil))
        }
        let pending = PendingInvocation(request: request, identifiers: &identifiers, done: done)
        pending.observer = observer
        queue.append(pending)
        pump()
    }

    /// Whether an invocation arriving now would find (or start) an environment without waiting for a busy one.
    private func canAbsorbAnotherInvocation() -> Bool {
        queue.count < comingCapacity
            + environments.values.reduce(0) { $0 + ($1.state == .ready ? $1.waiters.count : 0) }
            + max(0, options.maxConcurrency - environments.count) * options.perEnvironmentConcurrency
    }

    /// Slots that will ask for work soon without a new environment: those of environments still in init, and
    /// those whose runtime has answered but not yet called `/next` again (in Lambda, too, an environment is
    /// busy until its runtime asks for the next event).
    private var comingCapacity: Int {
        environments.values.reduce(0) { total, environment in
            switch environment.state {
            case .starting: total + options.perEnvironmentConcurrency
            case .ready:
                total + options.perEnvironmentConcurrency - environment.inFlight.count - environment.waiters.count
            case .stopping: total
            }
        }
    }

    /// Hands queued invocations to waiting environments, then starts environments for what is left.
    func pump() {
        while !queue.isEmpty,
            let environment = environments.values.first(where: { $0.state == .ready && !$0.waiters.isEmpty })
        {
            dispatch(queue.removeFirst(), to: environment, deliver: environment.waiters.removeFirst().deliver)
        }
        var capacity = comingCapacity
        while queue.count > capacity && environments.count < options.maxConcurrency && !shuttingDown {
            startEnvironment(provisioned: false, trigger: queue[capacity].requestID)
            capacity += options.perEnvironmentConcurrency
        }
    }

    func dispatch(_ pending: PendingInvocation, to environment: ExecutionEnvironment, deliver: (Dispatch?) -> Void) {
        pending.environmentID = environment.id
        pending.dispatchedAt = .now
        environment.inFlight.insert(pending.requestID)
        inFlight[pending.requestID] = pending
        let requestID = pending.requestID
        let timeout = definition.timeout
        pending.timeoutTask = loop.scheduleTask(in: .nanoseconds(Self.nanoseconds(timeout))) { [self] in
            invocationTimedOut(requestID)
        }
        log(pending, "START RequestId: \(requestID) Version: $LATEST")
        let deadline = Int64(Date().timeIntervalSince1970 * 1000) + Self.nanoseconds(timeout) / 1_000_000
        deliver(
            Dispatch(
                requestID: requestID, payload: pending.request.payload, deadlineMilliseconds: deadline,
                functionARN: arn,
                traceID: pending.traceID, clientContext: pending.request.clientContext,
                tenantID: pending.request.tenantID))
    }

    /// Ends an in-flight invocation: prints END/REPORT, records figures, answers the caller. `exited` is the
    /// environment it ran in when that has already ended (its figures still go into the REPORT line).
    func complete(
        _ pending: PendingInvocation, with result: InvocationResult, status: String? = nil,
        exited: ExecutionEnvironment? = nil
    ) {
        inFlight[pending.requestID] = nil
        pending.timeoutTask?.cancel()
        let environment = pending.environmentID.flatMap { environments[$0] } ?? exited
        environment?.inFlight.remove(pending.requestID)
        if let environment, environment.inFlight.isEmpty { environment.idleSince = .now }

        let duration = pending.dispatchedAt.map { (pending.answeredAt ?? ContinuousClock.now) - $0 } ?? .zero
        let milliseconds = Double(Self.nanoseconds(duration)) / 1e6
        let initDuration = environment.flatMap { $0.owesInitDuration ? $0.initDuration : nil }
        if initDuration != nil { environment?.owesInitDuration = false }
        if let environment { refreshPeak(environment) }
        if options.printsLogs || pending.request.wantsLogTail {
            var report =
                "REPORT RequestId: \(pending.requestID)\tDuration: \(Self.format(milliseconds)) ms"
                + "\tBilled Duration: \(Int(milliseconds.rounded(.up))) ms\tMemory Size: \(definition.memoryMegabytes) MB"
            if let environment {
                report += "\tMax Memory Used: \(max(1, environment.peakResidentBytes / 1_048_576)) MB"
            }
            if let initDuration {
                report += "\tInit Duration: \(Self.format(Double(Self.nanoseconds(initDuration)) / 1e6)) ms"
            }
            if let status { report += "\tStatus: \(status)" }
            log(pending, "END RequestId: \(pending.requestID)")
            log(pending, report)
        }
        switch result {
        case .response: statistics.record(duration: milliseconds, error: false)
        case .functionError: statistics.record(duration: milliseconds, error: true)
        case .serviceError: break
        }
        let tail = pending.request.wantsLogTail ? Self.tail(of: pending.log) : nil
        pending.done(InvocationOutcome(requestID: pending.requestID, result: result, logTail: tail))
        pump()
        if shuttingDown { checkStopped() }
    }

    private func refreshPeak(_ environment: ExecutionEnvironment) {
        let now = ContinuousClock.now
        guard now - environment.peakReadAt > .milliseconds(20) else { return }
        environment.peakReadAt = now
        environment.peakResidentBytes = max(
            environment.peakResidentBytes, environment.process?.peakResidentBytes() ?? 0,
            environment.cgroup?.peakBytes ?? 0)
    }

    /// Answers a queued (never dispatched) invocation.
    func fail(queued requestID: String, with result: InvocationResult) {
        guard let index = queue.firstIndex(where: { $0.requestID == requestID }) else { return }
        let pending = queue.remove(at: index)
        if case .functionError = result { statistics.record(duration: 0, error: true) }
        let tail = pending.request.wantsLogTail ? Self.tail(of: pending.log) : nil
        pending.done(InvocationOutcome(requestID: pending.requestID, result: result, logTail: tail))
    }

    func invocationTimedOut(_ requestID: String) {
        guard let pending = inFlight[requestID] else { return }
        let timestamp = ISO8601DateFormatter().string(from: Date())
        let message = "\(timestamp) \(requestID) Task timed out after \(Self.seconds(definition.timeout)) seconds"
        statistics.record(timeout: ())
        if let id = pending.environmentID, let environment = environments[id] { stop(environment) }
        complete(
            pending,
            with: .functionError(
                type: "Sandbox.Timedout",
                document: Self.errorDocument(
                    type: "Sandbox.Timedout", message: message)), status: "timeout")
    }

    // MARK: - Logs

    /// Prints a platform line (built only when someone reads it) and keeps it for the invocation's tail.
    func log(_ pending: PendingInvocation, _ line: @autoclosure () -> String) {
        guard options.printsLogs || pending.request.wantsLogTail else { return }
        let text = line()
        sink.print(text)
        if pending.request.wantsLogTail { pending.log.append(text) }
    }

    /// An environment's output line, kept for the tails of its in-flight invocations.
    func output(_ line: String, environmentID: Int) {
        guard let environment = environments[environmentID] else { return }
        for requestID in environment.inFlight {
            if let pending = inFlight[requestID], pending.request.wantsLogTail { pending.log.append(line) }
        }
    }

    /// The last 4 KB of `lines`, cut at a line boundary where possible.
    static func tail(of lines: [String]) -> String {
        var text = lines.joined(separator: "\n") + "\n"
        var bytes = Array(text.utf8)
        if bytes.count > 4096 {
            bytes = Array(bytes.suffix(4096))
            if let newline = bytes.firstIndex(of: 0x0A), newline < bytes.count - 1 { bytes.removeFirst(newline + 1) }
            text = String(decoding: bytes, as: UTF8.self)
        }
        return text
    }

    /// `{"errorMessage": message, "errorType": type}`.
    static func errorDocument(type: String, message: String) -> [UInt8] {
        var out = Array(#"{"errorMessage":"#.utf8)
        JSONText.appendString(message, to: &out)
        out.append(contentsOf: #","errorType":"#.utf8)
        JSONText.appendString(type, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func seconds(_ duration: Duration) -> String { format(Double(nanoseconds(duration)) / 1e9) }
}
