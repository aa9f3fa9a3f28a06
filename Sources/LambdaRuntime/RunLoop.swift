import FlintSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One sequential invocation loop: `/next` → handler → `/response` (or `/error`), over its own client.
///
/// `run` returns only when the Runtime API fails for good (a 500, or unreachable after retries), with the exit
/// status. The response buffer lives as long as the loop, so a warm invocation reuses it.
struct RunLoop: @unchecked Sendable {
    // @unchecked: the client is used only by the thread running this loop.
    let client: RuntimeClient
    let handler: any LambdaHandler
    let function: FunctionEnvironment
    let logger: Logger
    /// Whether to publish the trace id as `_X_AMZN_TRACE_ID` (single-concurrency mode only).
    let setsTraceVariable: Bool

    func run() -> Int32 {
        var response: [UInt8] = []
        while true {
            let headers: InvocationMetadata.RawHeaders
            do {
                headers = try client.next()
            } catch {
                logger.fatal("Runtime API failure, exiting: \(error.message)")
                return 1
            }
            let invocation: InvocationMetadata
            do {
                invocation = try InvocationMetadata(headers: headers)
            } catch {
                // Without a request id there is nowhere to answer; the service is broken, so stop.
                guard let requestID = headers.requestID else {
                    logger.fatal("Runtime API failure, exiting: \(error.message)")
                    return 1
                }
                let report = ErrorReport(category: .runtime, reason: "InvalidInvocation", message: error.message)
                guard
                    deliver(
                        requestID,
                        { () throws(RuntimeError) in
                            try client.postError(
                                requestID: requestID, invocationID: headers.invocationID, report: report)
                        })
                else { return 1 }
                continue
            }

            if setsTraceVariable {
                if let trace = invocation.traceID {
                    setenv("_X_AMZN_TRACE_ID", trace, 1)
                } else {
                    unsetenv("_X_AMZN_TRACE_ID")
                }
            }
            let context = LambdaContext(
                invocation: invocation, function: function, logger: logger.with(requestID: invocation.requestID))
            if logger.isEnabled(.trace) {
                context.logger.trace(
                    "event (\(client.event.count) bytes): \(String(decoding: client.event.prefix(1024), as: UTF8.self))"
                )
            }

            response.removeAll(keepingCapacity: true)
            var failure: ErrorReport? = nil
            do {
                if let answer = try serve(client.event, context: context, response: &response) {
                    if !stream(answer, context: context, invocation: invocation) { return 1 }
                    continue
                }
                if response.count > LambdaRuntime.maximumResponseBytes {
                    failure = ErrorReport(
                        category: .function, reason: "ResponseSizeTooLarge",
                        message:
                            "Response payload size (\(response.count) bytes) exceeded maximum allowed payload size (\(LambdaRuntime.maximumResponseBytes) bytes)."
                    )
                }
            } catch {
                failure = ErrorReport.from(handlerError: error)
            }
            if let failure {
                context.logger.error("\(failure.errorType): \(failure.errorMessage)")
            }
            let delivered = deliver(invocation.requestID) { () throws(RuntimeError) in
                if let failure {
                    return try client.postError(
                        requestID: invocation.requestID, invocationID: invocation.invocationID, report: failure)
                }
                return try client.postResponse(
                    requestID: invocation.requestID, invocationID: invocation.invocationID, body: response)
            }
            if !delivered { return 1 }
        }
    }

    /// The handler's answer: buffered into `response` (nil), or the streamed answer a streaming handler chose.
    private func serve(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws -> StreamedAnswer? {
        if let streaming = handler as? any LambdaStreamingHandler {
            return try streaming.respond(to: event, context: context, response: &response)
        }
        try handler.handle(event, context: context, response: &response)
        return nil
    }

    /// A streamed invocation: the answer writes on a thread of its own while this thread feeds its chunks to the
    /// Runtime API. An answer that fails before writing anything gets a plain `/error`; after, the error trailers.
    /// False means the environment is broken and the loop ends.
    private func stream(_ answer: StreamedAnswer, context: LambdaContext, invocation: InvocationMetadata) -> Bool {
        let stream = ResponseStream()
        let worker = answer.run(stream)
        // Whatever happens below, a handler still writing must not block for ever, and its thread must end
        // before the next invocation.
        defer {
            stream.finish()
            worker.join()
        }
        let (started, failure) = stream.waitForStart()
        if !started, let failure {
            context.logger.error("\(failure.errorType): \(failure.errorMessage)")
            return deliver(invocation.requestID) { () throws(RuntimeError) in
                try client.postError(
                    requestID: invocation.requestID, invocationID: invocation.invocationID, report: failure)
            }
        }
        let delivered = deliver(invocation.requestID) { () throws(RuntimeError) in
            try client.postStreamingResponse(
                requestID: invocation.requestID, invocationID: invocation.invocationID, stream: stream)
        }
        if case .failed(let report) = stream.nextEventIfFinished() {
            context.logger.error("stream ended by \(report.errorType): \(report.errorMessage)")
        }
        return delivered
    }

    /// Posts a result and judges the service's answer; false means the environment is broken and the loop ends.
    private func deliver(_ requestID: String, _ post: () throws(RuntimeError) -> RuntimeClient.Reply) -> Bool {
        let reply: RuntimeClient.Reply
        do {
            reply = try post()
        } catch {
            logger.fatal("Runtime API failure, exiting: \(error.message)")
            return false
        }
        switch reply.status {
        case 200..<300:
            return true
        case 410:
            // The invocation timed out and its id may be reused; the late answer is simply dropped.
            logger.with(requestID: requestID).warn(
                "the Runtime API no longer accepts a result for this invocation (410): \(reply.text)")
            return true
        case 500...:
            logger.with(requestID: requestID).fatal("Runtime API failure (\(reply.status)), exiting: \(reply.text)")
            return false
        default:
            logger.with(requestID: requestID).error(
                "the Runtime API rejected the result (\(reply.status)): \(reply.text)")
            return true
        }
    }
}
