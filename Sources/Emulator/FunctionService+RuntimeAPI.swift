import FlintJSON
import NIOCore

/// What runtimes call: `/next`, `/response`, `/error`, `/init/error`, with the Runtime API's status codes.
extension FunctionService {
    /// An answer to a runtime's POST.
    struct RuntimeReply: Sendable {
        let status: Int
        let document: [UInt8]

        static let accepted = RuntimeReply(status: 202, document: Array(#"{"status":"OK"}"#.utf8))
        static func error(_ status: Int, _ type: String, _ message: String) -> RuntimeReply {
            RuntimeReply(status: status, document: FunctionService.errorDocument(type: type, message: message))
        }
    }

    /// Long-polls for the environment's next invocation: `deliver` gets it (now or later), or nil when the
    /// environment is going away. Returns a token that `withdraw` takes if the connection closes first.
    @discardableResult
    func next(environmentID: Int, _ deliver: @escaping (Dispatch?) -> Void) -> Int? {
        guard let environment = environments[environmentID], environment.state != .stopping else {
            deliver(nil)
            return nil
        }
        if environment.state == .starting {
            environment.state = .ready
            environment.initDuration = ContinuousClock.now - environment.startedAt
            environment.idleSince = .now
            if let trigger = environment.trigger, !queue.contains(where: { $0.requestID == trigger }) {
                environment.trigger = nil
            }
        }
        guard environment.waiters.count < options.perEnvironmentConcurrency else {
            deliver(nil)
            return nil
        }
        if !queue.isEmpty {
            dispatch(queue.removeFirst(), to: environment, deliver: deliver)
            return nil
        }
        let token = nextWaiterID
        nextWaiterID += 1
        environment.waiters.append((token, deliver))
        return token
    }

    /// Forgets a `/next` whose connection closed before it got an invocation.
    func withdraw(environmentID: Int, token: Int) {
        environments[environmentID]?.waiters.removeAll { $0.id == token }
    }

    /// `POST /runtime/invocation/{id}/response`.
    func respond(
        environmentID: Int, requestID: String, body: [UInt8]?, declaredSize: Int?, responseMode: String?
    ) -> RuntimeReply {
        guard let pending = inFlight[requestID], pending.environmentID == environmentID, !pending.answered else {
            return .error(400, "InvalidRequestID", "Invalid request ID")
        }
        if let responseMode, responseMode != "streaming" {
            let type = "Runtime.InvalidResponseModeHeader"
            complete(
                pending,
                with: .functionError(
                    type: type,
                    document: Self.errorDocument(
                        type: type, message: "Invalid Lambda-Runtime-Function-Response-Mode header: '\(responseMode)'"))
            )
            return .error(
                400, "InvalidFunctionResponseMode",
                "Invalid Lambda-Runtime-Function-Response-Mode header: '\(responseMode)'")
        }
        guard let body, body.count <= Self.maximumResponseBytes else {
            let size = body?.count ?? declaredSize
            let sizeText = size.map { "(\($0) bytes) " } ?? ""
            let type = "Function.ResponseSizeTooLarge"
            complete(
                pending,
                with: .functionError(
                    type: type,
                    document: Self.errorDocument(
                        type: type,
                        message:
                            "Response payload size \(sizeText)exceeded maximum allowed payload size (\(Self.maximumResponseBytes) bytes)."
                    )),
                status: "error\tError Type: \(type)")
            return .error(
                413, "RequestEntityTooLarge",
                "Exceeded maximum allowed payload size (\(Self.maximumResponseBytes) bytes).")
        }
        completeWithLogs(pending, with: .response(body))
        return .accepted
    }

    /// `POST /runtime/invocation/{id}/error`.
    func reportError(environmentID: Int, requestID: String, typeHeader: String?, body: [UInt8]) -> RuntimeReply {
        guard let pending = inFlight[requestID], pending.environmentID == environmentID, !pending.answered else {
            return .error(400, "InvalidRequestID", "Invalid request ID")
        }
        let (type, document) = Self.functionError(typeHeader: typeHeader, body: body)
        completeWithLogs(
            pending, with: .functionError(type: type, document: document), status: "error\tError Type: \(type)")
        return .accepted
    }

    /// Completes an answered invocation once the lines its runtime wrote before answering have arrived, when the
    /// caller wants the log tail: output travels through pipes and reader threads, so it can trail the answer,
    /// which arrives over HTTP. Waits until the pipes have held no unread bytes for three 1 ms steps in a row
    /// (100 ms at most), so lines already read reach the event loop first. Without a tail request it completes at once.
    func completeWithLogs(
        _ pending: PendingInvocation, with result: InvocationResult, status: String? = nil, waited: Int = 0,
        quiet: Int = 0
    ) {
        pending.answered = true
        if pending.answeredAt == nil { pending.answeredAt = .now }
        guard pending.request.wantsLogTail else {
            guard inFlight[pending.requestID] === pending else { return }
            return complete(pending, with: result, status: status)
        }
        let environment = pending.environmentID.flatMap { environments[$0] }
        let unread = environment?.process?.unreadOutputBytes() ?? 0
        // Three quiet checks in a row: a reader thread descheduled between its read and its hand-off would
        // otherwise look quiet once.
        let quietSteps = unread == 0 ? quiet + 1 : 0
        let settled = quietSteps >= 3 || waited >= 100
        if settled {
            guard inFlight[pending.requestID] === pending else { return }  // timed out meanwhile
            return complete(pending, with: result, status: status)
        }
        loop.scheduleTask(in: .milliseconds(1)) { [self] in
            completeWithLogs(pending, with: result, status: status, waited: waited + 1, quiet: quietSteps)
        }
    }

    /// `POST /runtime/init/error`: remembered until the process exits, which fails the triggering invocation.
    func reportInitError(environmentID: Int, typeHeader: String?, body: [UInt8]) -> RuntimeReply {
        guard let environment = environments[environmentID] else {
            return .error(403, "InvalidStateTransition", "No such environment")
        }
        guard environment.state == .starting else {
            return .error(403, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime")
        }
        environment.initError = Self.functionError(typeHeader: typeHeader, body: body)
        return .accepted
    }

    /// The error type the platform records (invalid names become `Runtime.Unknown` / `Function.Unknown`) and the
    /// document the caller gets (the runtime's JSON as posted, or one built around a non-JSON body).
    static func functionError(typeHeader: String?, body: [UInt8]) -> (String, [UInt8]) {
        let type: String
        if let typeHeader, typeHeader.wholeMatch(of: /(Runtime|Function)\.[A-Z][a-zA-Z]+/) != nil {
            type = typeHeader
        } else {
            type = typeHeader?.hasPrefix("Function.") == true ? "Function.Unknown" : "Runtime.Unknown"
        }
        if let parsed = try? JSONValue(parsing: body), case .object = parsed { return (type, body) }
        return (type, errorDocument(type: type, message: String(decoding: body, as: UTF8.self)))
    }
}
