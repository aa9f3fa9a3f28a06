import FlintJSON
import LambdaRuntime

/// The invocation flow that search and classify share (embed adds SQS and streaming to it): measure, tell the
/// event's shape apart, answer a direct invocation with the JSON answer or `Function.InvalidInput`, an HTTP
/// request with a status code and a JSON body, and record the EMF line.
enum JSONFunction {
    /// Serves one invocation through `answer`, which reads a request document and writes the answer.
    static func serve(
        _ event: [UInt8], context: LambdaContext, metrics: MetricsEmitter, paths: [String], limits: InputLimits,
        name: String, into response: inout [UInt8],
        answer: (JSONValue, inout InvocationMetrics, inout [UInt8]) throws(InputError) -> Void
    ) throws {
        var stopwatch = Stopwatch()
        var measured = InvocationMetrics()
        defer {
            measured.totalMilliseconds = stopwatch.lap()
            metrics.record(measured, requestID: context.requestID)
        }
        do {
            switch try FunctionEvent(event) {
            case .direct(let document):
                try answer(document, &measured, &response)
            case .http(let request):
                do throws(InputError) {
                    try HTTPRoute.check(request, paths: paths, limits: limits)
                    let document: JSONValue
                    do { document = try JSONValue(parsing: request.body) } catch { throw InputError("the request body is not valid JSON: \(error)") }
                    var body: [UInt8] = []
                    try answer(document, &measured, &body)
                    HTTPResponse.write(status: 200, body: body, into: &response)
                } catch {
                    measured.rejected = 1
                    response.removeAll(keepingCapacity: true)
                    HTTPResponse.write(error, into: &response)
                }
            case .sqs:
                throw InputError("the \(name) function answers direct and HTTP invocations, not SQS batches")
            }
        } catch let error as InputError {
            measured.rejected = 1
            throw error.handlerError
        }
    }
}
