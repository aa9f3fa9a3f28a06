import Embedder
import FlintJSON
import FlintModel
import LambdaRuntime
import WordPiece

/// Reranking, the second stage of a retrieval pipeline: documents ordered by relevance to a query.
///
/// Request: a ``RerankRequest`` (Cohere's / Jina's shape), direct or as the JSON body of `POST /rerank` or
/// `/v1/rerank`. Answer: `{"results": [{"index", "relevance_score", "document": {"text"}}], "model", "usage"}`,
/// best first, `top_n` of them, `document` only with `return_documents`.
///
/// - With a cross-encoder (a one-label sequence classifier): each pair `[CLS] query [SEP] document [SEP]`, token
///   types 0 then 1, cut longest-first to `maxTokensPerPair` as `transformers` cuts pairs, all pairs of a request
///   in packed forward passes; the score is the head's output through the model's CrossEncoder activation
///   (sigmoid unless its config says otherwise), as sentence-transformers' `CrossEncoder.predict` gives it.
/// - With an embedding model: the cosine of the query's embedding (with the model's query prompt) and each
///   document's (with its document prompt), texts cut to the model's limit.
///
/// function.json: `limits.maxDocuments` (default 1,000), `limits.maxTokensPerPair` (default and most: the model's
/// limit), `limits.maxTotalTokens`, `maxCharactersPerInput`, `maxRequestBytes`; metrics as every function. SQS
/// batches are refused: a ranking answers its caller.
struct RerankFunction: FunctionBody {
    let name = "rerank"
    let routes = ["/rerank", "/v1/rerank"]
    let model: EmbeddingModel
    let limits: InputLimits
    let maxDocuments: Int
    let maxTokensPerPair: Int
    let metrics: MetricsEmitter
    /// The cross-encoder's head; nil when ranking by embeddings.
    let head: ModelTask.Classifier?

    /// Builds the function over a cross-encoder or an embedding model.
    init(model: EmbeddingModel, setup: FunctionSetup) throws {
        let configuration = setup.configuration
        if let head = model.task.classifier, head.labels.count != 1 {
            throw ConfigurationError(
                "the model '\(model.name)' classifies into \(head.labels.count) labels; rerank needs a cross-encoder (one output) or an embedding model"
            )
        }
        self.model = model
        self.head = model.task.classifier
        limits = try InputLimits(configuration: configuration)
        maxDocuments = try configuration.integer("maxDocuments", in: "limits", default: 1000, minimum: 1)
        let pair = try configuration.integer("maxTokensPerPair", in: "limits", default: model.maxTokens, minimum: 3)
        guard pair <= model.maxTokens else {
            throw ConfigurationError(
                "function.json: limits.maxTokensPerPair \(pair) is over the model's limit of \(model.maxTokens) tokens")
        }
        maxTokensPerPair = pair
        metrics = try setup.metrics(model: model)
    }

    /// The registry's factory.
    static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let setup = try FunctionSetup(context)
        return FunctionHandler(try RerankFunction(model: setup.model(), setup: setup))
    }

    func answer(
        _ document: JSONValue, context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) -> StreamWriter? {
        let request = try RerankRequest(document, limits: limits, maxDocuments: maxDocuments)
        let scores: [Float]
        if let head {
            scores = try crossEncode(request, head: head, measured: &measured)
        } else {
            scores = try embedAndCompare(request, measured: &measured)
        }
        var stopwatch = Stopwatch()
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        out.append(contentsOf: #"{"results":["#.utf8)
        for (rank, index) in order.prefix(request.topN).enumerated() {
            if rank > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"index":"#.utf8)
            JSONText.appendNumber(Double(index), to: &out)
            out.append(contentsOf: #","relevance_score":"#.utf8)
            JSONText.appendFloat(scores[index], to: &out)
            if request.returnDocuments {
                out.append(contentsOf: #","document":{"text":"#.utf8)
                JSONText.appendString(request.documents.texts[index], to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        measured.searchMilliseconds += stopwatch.lap()
        AnswerTail.write(model: model.name, tokens: measured.tokens, into: &out)
        return nil
    }

    /// A cross-encoder's score for each (query, document) pair.
    private func crossEncode(
        _ request: RerankRequest, head: ModelTask.Classifier, measured: inout InvocationMetrics
    ) throws(InputError) -> [Float] {
        var stopwatch = Stopwatch()
        var ids: [[Int32]] = [], types: [[Int32]] = [], total = 0
        for text in request.documents.texts {
            let pair = model.tokenizer.encode(request.query.texts[0], text, maxLength: maxTokensPerPair)
            total += pair.ids.count
            guard total <= limits.maxTotalTokens else {
                throw InputError(
                    "the request has more than \(limits.maxTotalTokens) tokens in all (query and document pairs), this function's limit"
                )
            }
            ids.append(pair.ids)
            types.append(pair.typeIDs)
        }
        measured.tokens += total
        measured.batchSize += ids.count
        measured.tokenizeMilliseconds += stopwatch.lap()
        let outputs = model.classify(ids, typeIDs: types)
        measured.forwardMilliseconds += stopwatch.lap()
        let activation = request.rawScores ? .identity : head.crossEncoderActivation
        return outputs.map { activation($0)[0] }
    }

    /// The cosine of the query's embedding and each document's.
    private func embedAndCompare(
        _ request: RerankRequest, measured: inout InvocationMetrics
    ) throws(InputError) -> [Float] {
        var stopwatch = Stopwatch()
        var sequences = try model.tokenize(
            request.query, prompt: model.prompts.query, truncate: true, maxTotalTokens: limits.maxTotalTokens,
            measured: &measured)
        sequences += try model.tokenize(
            request.documents, prompt: model.prompts.document, truncate: true,
            maxTotalTokens: limits.maxTotalTokens - measured.tokens, measured: &measured)
        measured.tokenizeMilliseconds += stopwatch.lap()
        let vectors = model.embed(sequences, normalize: true)
        measured.forwardMilliseconds += stopwatch.lap()
        return vectors.dropFirst().map { document in zip(vectors[0], document).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
    }
}
