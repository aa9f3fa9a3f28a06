import FlintSystem

/// A handler that can stream its answer (see ``ResponseStream``). It reads each event once and decides there: a
/// buffered answer (with its 6 MB limit) or a streamed one.
///
/// ```swift
/// struct Countdown: LambdaStreamingHandler {
///     func respond(to event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws -> StreamedAnswer? {
///         StreamedAnswer { stream in for n in (1...3).reversed() { try stream.write("\(n)\n") } }
///     }
/// }
/// ```
public protocol LambdaStreamingHandler: LambdaHandler {
    /// Serves one invocation: appends a buffered answer to `response` and returns nil, or returns the
    /// ``StreamedAnswer`` that writes a streamed one (the runtime runs it on a thread of its own while it sends the
    /// chunks). Throwing here is a plain error response, as from ``LambdaHandler/handle(_:context:response:)``.
    func respond(to event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws -> StreamedAnswer?
}

extension LambdaStreamingHandler {
    /// The buffered entry, for callers that cannot stream (tests, `flint eval`): a streamed answer is collected
    /// whole into `response`, HTTP prelude included; a failure after the first chunk is thrown.
    public func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        guard let answer = try respond(to: event, context: context, response: &response) else { return }
        try answer.collect(into: &response)
    }
}

/// The body of a streamed answer: writes to the stream; returning finishes it, throwing ends it with an error
/// (the error trailers once something was written, else a plain `/error`).
public struct StreamedAnswer: Sendable {
    let body: @Sendable (ResponseStream) throws -> Void

    /// An answer written by `body`.
    public init(_ body: @escaping @Sendable (ResponseStream) throws -> Void) {
        self.body = body
    }

    /// Starts the body on a thread of its own, writing to `stream`; the stream ends when the body returns or throws.
    func run(_ stream: ResponseStream) -> JoinableThread {
        JoinableThread { [body] in
            do {
                try body(stream)
                stream.finish()
            } catch {
                stream.fail(ErrorReport.from(handlerError: error))
            }
        }
    }

    /// Runs the body and appends everything it writes to `response`.
    func collect(into response: inout [UInt8]) throws {
        let stream = ResponseStream()
        let worker = run(stream)
        defer { worker.join() }
        while true {
            switch stream.nextEvent() {
            case .chunk(let bytes): response.append(contentsOf: bytes)
            case .finished: return
            case .failed(let report):
                throw HandlerError(
                    type: String(report.errorType.split(separator: ".").last ?? "Unhandled"),
                    message: report.errorMessage)
            }
        }
    }
}
