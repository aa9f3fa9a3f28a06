import FlintJSON
import LambdaRuntime

/// Sentence embeddings behind the three ways a function is invoked:
///
/// - direct: the event is an ``EmbeddingRequest`` and the response OpenAI's embeddings response (`object`, `data[]`
///   with `index` and `embedding`, `model`, `usage`); bad input is `Function.InvalidInput`;
/// - HTTP (HTTP API v2 or Function URL): `POST /embeddings` or `POST /v1/embeddings` with the same JSON body,
///   answered with `statusCode`, headers and a JSON body; 400 for bad input, 404 other paths, 405 other methods,
///   413 for a body over `limits.maxRequestBytes`;
/// - SQS: every record (a plain text, or a JSON request) embedded in one batched pass; records that fail validation
///   are listed in `batchItemFailures` so only they are retried. Results are returned beside it (`sqs.results`:
///   `return`, the default) or written to the log as one EMF line per record (`log`).
///
/// Every invocation writes an EMF metrics line (see ``MetricsEmitter``). Input text is logged only at debug level.
///
/// With `"stream": true` (direct, or in the body of `POST /v1/embeddings` over a Function URL in
/// `RESPONSE_STREAM` mode) the answer is JSON lines, streamed as each batch of 32 texts is done: one
/// `{"object": "embedding", "index", "embedding"}` line per text, then `{"object": "usage", "model", "usage"}`.
/// Every text is validated and tokenized before the first line, so bad input is still a plain error.
public struct EmbedHandler: LambdaStreamingHandler {
    /// Where SQS results go.
    public enum SQSResults: String, Sendable { case `return`, log }

    let model: EmbeddingModel
    let limits: InputLimits
    let sqsResults: SQSResults
    let metrics: MetricsEmitter
    let drift: DriftMonitor?

    /// Builds the handler from the function's configuration (model, limits, metrics, SQS output).
    public init(model: EmbeddingModel, configuration: FunctionConfiguration, functionName: String) throws {
        self.model = model
        self.limits = try InputLimits(configuration: configuration)
        self.sqsResults = SQSResults(rawValue: try configuration.string("results", in: "sqs", default: "return", allowed: ["return", "log"]))!
        self.metrics = try MetricsEmitter(configuration: configuration, functionName: functionName, model: model)
        self.drift = try DriftMonitor(model: model, configuration: configuration, metrics: metrics)
    }

    /// The factory the registry uses: reads function.json from the task root and maps the model.
    public static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let configuration = try FunctionConfiguration.load(taskRoot: context.function.taskRoot)
        let path = try EmbeddingModel.path(configuration: configuration, taskRoot: context.function.taskRoot)
        return try EmbedHandler(model: EmbeddingModel(path: path), configuration: configuration, functionName: context.function.name)
    }

    public func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        var stopwatch = Stopwatch()
        var measured = InvocationMetrics()
        defer {
            measured.totalMilliseconds = stopwatch.lap()
            metrics.record(measured, requestID: context.requestID)
        }
        let shape: FunctionEvent
        do { shape = try FunctionEvent(event) } catch { measured.rejected = 1; throw error.handlerError }
        switch shape {
        case .direct(let document):
            do {
                let request = try EmbeddingRequest(document, limits: limits, modelName: model.name, dimensions: model.dimensions)
                try embed(request, context: context, measured: &measured, into: &response)
            } catch {
                measured.rejected = 1
                throw error.handlerError
            }
        case .http(let request):
            do {
                try serve(request, context: context, measured: &measured, into: &response)
            } catch {
                measured.rejected = 1
                response.removeAll(keepingCapacity: true)
                HTTPResponse.write(error, into: &response)
            }
        case .sqs(let records):
            embedBatch(records, context: context, measured: &measured, into: &response)
        }
    }

    // MARK: - Streaming

    public func streams(_ event: [UInt8]) -> Bool {
        guard ByteSearch.firstIndex(of: Array(#""stream""#.utf8), in: event) != nil
                || ByteSearch.firstIndex(of: Array(#"\"stream\""#.utf8), in: event) != nil,
              let document = try? JSONValue(parsing: event) else { return false }
        if document["stream"]?.bool == true { return true }
        if document["requestContext"]?["http"] != nil, case let request = HTTPRequest(event: document).body,
           let body = try? JSONValue(parsing: request) {
            return body["stream"]?.bool == true
        }
        return false
    }

    public func handle(_ event: [UInt8], context: LambdaContext, stream: ResponseStream) throws {
        var stopwatch = Stopwatch()
        var measured = InvocationMetrics()
        defer {
            measured.totalMilliseconds = stopwatch.lap()
            metrics.record(measured, requestID: context.requestID)
        }
        var http = false
        let request: EmbeddingRequest
        let sequences: [[Int32]]
        do {
            var document: JSONValue
            switch try FunctionEvent(event) {
            case .direct(let direct): document = direct
            case .http(let httpRequest):
                http = true
                try HTTPRoute.check(httpRequest, paths: ["/embeddings", "/v1/embeddings"], limits: limits)
                do { document = try JSONValue(parsing: httpRequest.body) } catch { throw InputError("the request body is not valid JSON: \(error)") }
            case .sqs: throw InputError("SQS batches are not streamed")
            }
            request = try EmbeddingRequest(document, limits: limits, modelName: model.name, dimensions: model.dimensions)
            logInputs(request.inputs, context: context)
            var tokenizing = Stopwatch()
            sequences = try model.tokenize(request, limits: streamLimits, measured: &measured)
            measured.tokenizeMilliseconds = tokenizing.lap()
        } catch let error as InputError {
            measured.rejected = 1
            if http {
                try stream.writeHTTPPrelude(statusCode: error.status, headers: ["content-type": "application/json"])
                try stream.write(JSONValue.object(["error": .object(["message": .string(error.message), "type": .string(error.code),
                                                                     "code": .number(Double(error.status))])]).jsonBytes)
                return
            }
            throw error.handlerError
        }
        if http { try stream.writeHTTPPrelude(statusCode: 200, headers: ["content-type": "application/x-ndjson"]) }
        var forward = Stopwatch()
        var line: [UInt8] = []
        for start in stride(from: 0, to: sequences.count, by: 32) {
            let batch = Array(sequences[start..<min(start + 32, sequences.count)])
            let vectors = model.embed(batch, normalize: request.normalize)
            drift?.observe(batch, vectors: vectors)
            line.removeAll(keepingCapacity: true)
            for (offset, vector) in vectors.enumerated() {
                writeEmbedding(vector, index: start + offset, format: request.encodingFormat, into: &line)
                line.append(0x0A)
            }
            try stream.write(line)
        }
        measured.forwardMilliseconds = forward.lap()
        var last: [UInt8] = []
        JSONValue.object(["object": .string("usage"), "model": .string(model.name),
                          "usage": .object(["prompt_tokens": .number(Double(measured.tokens)), "total_tokens": .number(Double(measured.tokens))])]).write(to: &last)
        last.append(0x0A)
        try stream.write(last)
    }

    /// The limits for a streamed request: its own counts apply (EmbeddingRequest already checked the inputs).
    private var streamLimits: InputLimits {
        var streamed = limits
        streamed.maxTotalTokens = limits.maxStreamedTotalTokens
        return streamed
    }

    // MARK: - Event shapes

    private func serve(_ request: HTTPRequest, context: LambdaContext, measured: inout InvocationMetrics, into response: inout [UInt8]) throws(InputError) {
        try HTTPRoute.check(request, paths: ["/embeddings", "/v1/embeddings"], limits: limits)
        let document: JSONValue
        do { document = try JSONValue(parsing: request.body) } catch { throw InputError("the request body is not valid JSON: \(error)") }
        let parsed = try EmbeddingRequest(document, limits: limits, modelName: model.name, dimensions: model.dimensions)
        var body: [UInt8] = []
        try embed(parsed, context: context, measured: &measured, into: &body)
        HTTPResponse.write(status: 200, body: body, into: &response)
    }

    private func embed(_ request: EmbeddingRequest, context: LambdaContext, measured: inout InvocationMetrics, into response: inout [UInt8]) throws(InputError) {
        logInputs(request.inputs, context: context)
        var stopwatch = Stopwatch()
        let sequences = try model.tokenize(request, limits: limits, measured: &measured)
        measured.tokenizeMilliseconds = stopwatch.lap()
        let vectors = model.embed(sequences, normalize: request.normalize)
        measured.forwardMilliseconds = stopwatch.lap()
        drift?.observe(sequences, vectors: vectors)
        writeResponse(vectors, tokens: sequences.reduce(0) { $0 + $1.count }, format: request.encodingFormat, into: &response)
    }

    private func embedBatch(_ records: [SQSRecord], context: LambdaContext, measured: inout InvocationMetrics, into response: inout [UInt8]) {
        var failed: [SQSRecord] = []
        var accepted: [(record: SQSRecord, request: EmbeddingRequest, sequences: [[Int32]])] = []
        var stopwatch = Stopwatch()
        for record in records {
            do {
                let request = try Self.request(from: record, limits: limits, model: model)
                logInputs(request.inputs, context: context)
                accepted.append((record, request, try model.tokenize(request, limits: limits, measured: &measured)))
            } catch {
                context.logger.warn("SQS message \(record.messageID) refused: \(error.message)")
                failed.append(record)
            }
        }
        measured.rejected = failed.count
        measured.tokenizeMilliseconds = stopwatch.lap()
        // One packed pass per normalisation choice (almost always a single one).
        var vectors = [[[Float]]](repeating: [], count: accepted.count)
        for choice in Set(accepted.map(\.request.normalize)) {
            let members = accepted.indices.filter { accepted[$0].request.normalize == choice }
            let sequences = members.flatMap { accepted[$0].sequences }
            let results = model.embed(sequences, normalize: choice)
            drift?.observe(sequences, vectors: results)
            var offset = 0
            for member in members {
                let count = accepted[member].sequences.count
                vectors[member] = Array(results[offset..<(offset + count)])
                offset += count
            }
        }
        measured.forwardMilliseconds = stopwatch.lap()

        response.append(contentsOf: #"{"batchItemFailures":["#.utf8)
        for (index, record) in failed.enumerated() {
            if index > 0 { response.append(UInt8(ascii: ",")) }
            response.append(contentsOf: #"{"itemIdentifier":"#.utf8)
            JSONText.appendString(record.messageID, to: &response)
            response.append(UInt8(ascii: "}"))
        }
        response.append(UInt8(ascii: "]"))
        if sqsResults == .return {
            response.append(contentsOf: #","results":["#.utf8)
        }
        for (index, item) in accepted.enumerated() {
            let tokens = item.sequences.reduce(0) { $0 + $1.count }
            switch sqsResults {
            case .return:
                if index > 0 { response.append(UInt8(ascii: ",")) }
                response.append(contentsOf: #"{"messageId":"#.utf8)
                JSONText.appendString(item.record.messageID, to: &response)
                response.append(contentsOf: #","response":"#.utf8)
                writeResponse(vectors[index], tokens: tokens, format: item.request.encodingFormat, into: &response)
                response.append(UInt8(ascii: "}"))
            case .log:
                var line: [UInt8] = []
                writeResponse(vectors[index], tokens: tokens, format: item.request.encodingFormat, into: &line)
                let document = (try? JSONValue(parsing: line)) ?? .null
                metrics.emit([("Embeddings", "Count", Double(vectors[index].count))],
                             properties: ["messageId": .string(item.record.messageID), "response": document])
            }
        }
        if sqsResults == .return { response.append(UInt8(ascii: "]")) }
        response.append(UInt8(ascii: "}"))
    }

    /// A record's request: a JSON object body is a request; any other body is one text.
    static func request(from record: SQSRecord, limits: InputLimits, model: EmbeddingModel) throws(InputError) -> EmbeddingRequest {
        let trimmed = record.body.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        let document: JSONValue
        if trimmed.first == "{" {
            do { document = try JSONValue(parsing: record.body) } catch { throw InputError("the message body is not valid JSON: \(error)") }
        } else {
            document = .object(["input": .string(record.body)])
        }
        return try EmbeddingRequest(document, limits: limits, modelName: model.name, dimensions: model.dimensions)
    }

    // MARK: - Shared steps

    private func writeResponse(_ vectors: [[Float]], tokens: Int, format: EmbeddingRequest.EncodingFormat, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + vectors.count * (model.dimensions * 12 + 64) + 128)
        out.append(contentsOf: #"{"object":"list","data":["#.utf8)
        for (index, vector) in vectors.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeEmbedding(vector, index: index, format: format, into: &out)
        }
        out.append(contentsOf: #"],"model":"#.utf8)
        JSONText.appendString(model.name, to: &out)
        out.append(contentsOf: #","usage":{"prompt_tokens":"#.utf8)
        JSONText.appendNumber(Double(tokens), to: &out)
        out.append(contentsOf: #","total_tokens":"#.utf8)
        JSONText.appendNumber(Double(tokens), to: &out)
        out.append(contentsOf: "}}".utf8)
    }

    /// One `{"object": "embedding", "index", "embedding"}` object.
    private func writeEmbedding(_ vector: [Float], index: Int, format: EmbeddingRequest.EncodingFormat, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"object":"embedding","index":"#.utf8)
        JSONText.appendNumber(Double(index), to: &out)
        out.append(contentsOf: #","embedding":"#.utf8)
        switch format {
        case .float:
            out.append(UInt8(ascii: "["))
            for (position, value) in vector.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendFloat(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .base64:
            out.append(UInt8(ascii: "\""))
            vector.withUnsafeBytes { raw in
                // Little-endian float32, as OpenAI's clients decode it (every platform Flint runs on is little-endian).
                Base64.encode(raw, into: &out)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }

    private func logInputs(_ inputs: [String], context: LambdaContext) {
        guard context.logger.isEnabled(.debug) else { return }
        var text: [UInt8] = []
        JSONValue.array(inputs.map { .string($0) }).write(to: &text)
        context.logger.debug("inputs: \(String(decoding: text, as: UTF8.self))")
    }
}
