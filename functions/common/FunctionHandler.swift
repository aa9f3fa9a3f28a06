import FlintJSON
import LambdaRuntime

/// The one invocation pipeline every model function runs in: event shape → request → model work → answer.
///
/// - direct: the event is the request; the answer is the response, bad input `Function.InvalidInput`;
/// - HTTP (API Gateway HTTP API payload 2.0, Function URL): POST on one of the body's routes with a JSON body;
///   answered with `statusCode`, headers and the JSON body; 400 / 404 / 405 / 413 with `{"error": {"message",
///   "type", "code"}}`;
/// - SQS: handed to the body whole (it may refuse batches);
/// - streaming: decided from the parsed request, once; a streamed HTTP answer starts with a prelude.
///
/// Every invocation records one EMF line, with `Rejected` set when the request was refused.
struct FunctionHandler<Body: FunctionBody>: LambdaStreamingHandler {
    let body: Body

    init(_ body: Body) { self.body = body }

    func respond(to event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws -> StreamedAnswer? {
        var stopwatch = Stopwatch()
        var measured = InvocationMetrics()
        var streamed: StreamedAnswer? = nil
        defer {
            if streamed == nil {
                measured.totalMilliseconds = stopwatch.lap()
                body.metrics.record(measured, requestID: context.requestID)
            }
        }
        do throws(InputError) {
            switch try FunctionEvent(event) {
            case .direct(let document):
                if let writer = try body.answer(document, context: context, measured: &measured, into: &response) {
                    streamed = stream(writer, http: false, context: context, measured: measured, stopwatch: stopwatch)
                    return streamed
                }
            case .http(let request):
                streamed = serve(request, context: context, measured: &measured, stopwatch: stopwatch, into: &response)
                return streamed
            case .sqs(let records):
                try body.answer(records, context: context, measured: &measured, into: &response)
            }
        } catch {
            measured.rejected = max(measured.rejected, 1)
            throw error.handlerError
        }
        return nil
    }

    /// An HTTP request: the route's checks, the body's JSON, then a buffered or streamed answer. Bad input is an
    /// HTTP error response, streamed as well when the request asked to stream.
    private func serve(
        _ request: HTTPRequest, context: LambdaContext, measured: inout InvocationMetrics, stopwatch: Stopwatch,
        into response: inout [UInt8]
    ) -> StreamedAnswer? {
        var document: JSONValue? = nil
        do throws(InputError) {
            try HTTPRoute.check(request, paths: body.routes, limits: body.limits)
            do { document = try JSONValue(parsing: request.body) } catch {
                throw InputError("the request body is not valid JSON: \(error)")
            }
            var answer: [UInt8] = []
            if let writer = try body.answer(document!, context: context, measured: &measured, into: &answer) {
                return stream(writer, http: true, context: context, measured: measured, stopwatch: stopwatch)
            }
            HTTPResponse.write(status: 200, body: answer, into: &response)
            return nil
        } catch {
            measured.rejected = max(measured.rejected, 1)
            response.removeAll(keepingCapacity: true)
            guard document?["stream"]?.bool == true else {
                HTTPResponse.write(error, into: &response)
                return nil
            }
            // A client that asked to stream reads a streamed response, so the error comes as one too.
            return stream(
                { stream, _ in
                    try stream.writeHTTPPrelude(statusCode: error.status, headers: HTTPResponse.errorHeaders(error))
                    try stream.write(error.body.jsonBytes)
                }, http: false, context: context, measured: measured, stopwatch: stopwatch)
        }
    }

    /// The streamed answer: the body's writer behind an HTTP prelude when `http`, then the EMF line.
    private func stream(
        _ writer: @escaping StreamWriter, http: Bool, context: LambdaContext, measured: InvocationMetrics,
        stopwatch: Stopwatch
    ) -> StreamedAnswer {
        let metrics = body.metrics
        return StreamedAnswer { stream in
            var measured = measured, stopwatch = stopwatch
            defer {
                measured.totalMilliseconds = stopwatch.lap()
                metrics.record(measured, requestID: context.requestID)
            }
            if http { try stream.writeHTTPPrelude(statusCode: 200, headers: ["content-type": "application/x-ndjson"]) }
            try writer(stream, &measured)
        }
    }
}
