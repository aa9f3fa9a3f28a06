import Embedder
import FlintJSON
import FlintModel
import LambdaRuntime

/// Semantic search over an index built at package time (`flint index`): the query is embedded and the top-k
/// documents come back with scores (cosine similarity) and their stored fields (id, text, metadata).
///
/// Request (direct invocation, or the JSON body of `POST /search` over HTTP): `{"query": "text" | ["text", ...],
/// "top_k": 5}`; `top_k` defaults to function.json's `topK` (5) and may not exceed `maxTopK` (100). Answer:
/// `{"results": [{"score", "document"}], "model", "usage"}` for one query; `{"data": [{"index", "results"}], ...}`
/// for several. The index is `FLINT_INDEX` or function.json's `index` under the task root, and must come from the
/// served model (checked at init). Queries are embedded with the model's query prompt (`query`, else its default),
/// as `flint index` embeds documents with its document prompt. Routes: `POST /search` and `/v1/search`; no SQS.
struct SearchFunction: FunctionBody {
    let name = "search"
    let routes = ["/search", "/v1/search"]
    let model: EmbeddingModel
    let search: VectorSearch
    let limits: InputLimits
    let defaultTopK: Int
    let maxTopK: Int
    let metrics: MetricsEmitter
    let drift: DriftMonitor?

    static let fields: Set<String> = ["query", "top_k", "truncate"]

    /// Builds the function over a model and an index made with it.
    init(model: EmbeddingModel, index: VectorIndex, setup: FunctionSetup) throws {
        try model.requireEmbeddings(for: "search")
        guard index.dimensions == model.dimensions else {
            throw ConfigurationError(
                "the index has \(index.dimensions)-dimensional vectors; the model makes \(model.dimensions)")
        }
        if let indexed = index.info["modelName"]?.string, indexed != model.name {
            throw ConfigurationError(
                "the index was built with model '\(indexed)'; this function serves '\(model.name)'")
        }
        let configuration = setup.configuration
        self.model = model
        self.search = VectorSearch(index: index)
        self.limits = try InputLimits(configuration: configuration)
        self.maxTopK = try configuration.integer("maxTopK", default: 100, minimum: 1)
        self.defaultTopK = min(try configuration.integer("topK", default: 5, minimum: 1), maxTopK)
        self.metrics = try setup.metrics(model: model)
        self.drift = try DriftMonitor(model: model, configuration: configuration, metrics: metrics)
    }

    /// The registry's factory: function.json, the model and the index (`FLINT_MODEL` / `FLINT_INDEX` over them).
    static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let setup = try FunctionSetup(context)
        let index = try setup.open(variable: "FLINT_INDEX", key: "index", default: "index.flintidx") {
            try VectorIndex.open($0)
        }
        return FunctionHandler(try SearchFunction(model: setup.model(), index: index, setup: setup))
    }

    func answer(
        _ document: JSONValue, context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) -> StreamWriter? {
        let members = try RequestMembers.of(document, accepted: Self.fields, mainField: "query")
        var topK = defaultTopK
        if let value = members["top_k"], value != .null {
            guard let number = value.integer, number >= 1, number <= maxTopK else {
                throw InputError("\"top_k\" must be an integer from 1 to \(maxTopK)")
            }
            topK = number
        }
        let queries = try InputTexts(members["query"], field: "query", limits: limits, maxInputs: limits.maxInputs)
        let truncate = try InputTexts.flag(members, "truncate") ?? false
        var stopwatch = Stopwatch()
        let sequences = try model.tokenize(
            queries, prompt: model.prompts.query, truncate: truncate, maxTotalTokens: limits.maxTotalTokens,
            measured: &measured)
        measured.tokenizeMilliseconds = stopwatch.lap()
        let vectors = model.embed(sequences, normalize: true)
        measured.forwardMilliseconds = stopwatch.lap()
        drift?.observe(sequences, vectors: vectors)
        let hits = vectors.map { search.search($0, top: topK) }
        measured.searchMilliseconds = stopwatch.lap()

        if queries.single {
            out.append(contentsOf: #"{"results":"#.utf8)
            writeResults(hits[0], into: &out)
        } else {
            out.append(contentsOf: #"{"data":["#.utf8)
            for (index, results) in hits.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"index":"#.utf8)
                JSONText.appendNumber(Double(index), to: &out)
                out.append(contentsOf: #","results":"#.utf8)
                writeResults(results, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        AnswerTail.write(model: model.name, tokens: measured.tokens, into: &out)
        return nil
    }

    /// `[{"score", "document"}]`, best first.
    private func writeResults(_ results: [(index: Int, score: Float)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (rank, hit) in results.enumerated() {
            if rank > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"score":"#.utf8)
            JSONText.appendFloat(hit.score, to: &out)
            out.append(contentsOf: #","document":"#.utf8)
            search.index.document(hit.index).write(to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }
}
