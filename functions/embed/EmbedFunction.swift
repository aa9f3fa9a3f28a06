import FlintJSON
import LambdaRuntime

/// Sentence embeddings in OpenAI's shape: the request is an ``EmbeddingRequest``, the answer `{"object": "list",
/// "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}`. Routes: `POST /embeddings` and
/// `/v1/embeddings`. Runs behind ``FunctionHandler`` (direct, HTTP, SQS, streaming).
///
/// - SQS (`EmbedFunction+SQS.swift`): every record (a plain text, or a JSON request) embedded in one packed pass.
/// - Streaming: with `"stream": true` the answer is JSON lines, sent as each batch of 32 texts is done: one
///   `{"object": "embedding", "index", "embedding"}` line per text, then `{"object": "usage", "model", "usage"}`.
///   Every text is validated and tokenized before the first line, so bad input is still a plain error.
///
/// Input text is logged only at debug level.
struct EmbedFunction: FunctionBody {
    /// Where SQS results go: returned beside `batchItemFailures`, or logged as one EMF line per record.
    enum SQSResults: String, Sendable { case `return`, log }

    let name = "embed"
    let routes = ["/embeddings", "/v1/embeddings"]
    let model: EmbeddingModel
    let limits: InputLimits
    let sqsResults: SQSResults
    let metrics: MetricsEmitter
    let drift: DriftMonitor?
    let writer: EmbeddingWriter

    /// Builds the function over a mapped model and its configuration (limits, metrics, SQS output, drift).
    init(model: EmbeddingModel, setup: FunctionSetup) throws {
        let configuration = setup.configuration
        try model.requireEmbeddings(for: "embed")
        self.model = model
        limits = try InputLimits(configuration: configuration)
        sqsResults = SQSResults(
            rawValue: try configuration.string("results", in: "sqs", default: "return", allowed: ["return", "log"]))!
        metrics = try setup.metrics(model: model)
        drift = try DriftMonitor(model: model, configuration: configuration, metrics: metrics)
        writer = EmbeddingWriter(model: model)
    }

    /// The registry's factory: function.json, the `FLINT_*` settings and the model.
    static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let setup = try FunctionSetup(context)
        return FunctionHandler(try EmbedFunction(model: setup.model(), setup: setup))
    }

    func answer(
        _ document: JSONValue, context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) -> StreamWriter? {
        let request = try EmbeddingRequest(
            document, limits: limits, modelName: model.name, dimensions: model.dimensions)
        guard request.stream else {
            let vectors = try embed(request, context: context, measured: &measured)
            writer.writeList(vectors, tokens: measured.tokens, format: request.encodingFormat, into: &out)
            return nil
        }
        logInputs(request.inputs, context: context)
        var tokenizing = Stopwatch()
        let sequences = try model.tokenize(request, limits: limits, measured: &measured)
        measured.tokenizeMilliseconds = tokenizing.lap()
        return {
            [model, drift, writer, normalize = request.normalize, format = request.encodingFormat] stream, measured in
            var forward = Stopwatch()
            var lines: [UInt8] = []
            for start in stride(from: 0, to: sequences.count, by: 32) {
                let batch = Array(sequences[start..<min(start + 32, sequences.count)])
                let vectors = model.embed(batch, normalize: normalize)
                drift?.observe(batch, vectors: vectors)
                lines.removeAll(keepingCapacity: true)
                for (offset, vector) in vectors.enumerated() {
                    writer.writeEmbedding(vector, index: start + offset, format: format, into: &lines)
                    lines.append(0x0A)
                }
                try stream.write(lines)
            }
            measured.forwardMilliseconds = forward.lap()
            lines.removeAll(keepingCapacity: true)
            lines.append(contentsOf: #"{"object":"usage""#.utf8)
            AnswerTail.write(model: model.name, tokens: measured.tokens, into: &lines)
            lines.append(0x0A)
            try stream.write(lines)
        }
    }

    /// Tokenizes and embeds one request's texts, timing both steps.
    private func embed(
        _ request: EmbeddingRequest, context: LambdaContext, measured: inout InvocationMetrics
    ) throws(InputError) -> [[Float]] {
        logInputs(request.inputs, context: context)
        var stopwatch = Stopwatch()
        let sequences = try model.tokenize(request, limits: limits, measured: &measured)
        measured.tokenizeMilliseconds = stopwatch.lap()
        let vectors = model.embed(sequences, normalize: request.normalize)
        measured.forwardMilliseconds = stopwatch.lap()
        drift?.observe(sequences, vectors: vectors)
        return vectors
    }

    func logInputs(_ inputs: [String], context: LambdaContext) {
        guard context.logger.isEnabled(.debug) else { return }
        var text: [UInt8] = []
        JSONValue.array(inputs.map { .string($0) }).write(to: &text)
        context.logger.debug("inputs: \(String(decoding: text, as: UTF8.self))")
    }
}
