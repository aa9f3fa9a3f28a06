import Embedder
import FlintJSON
import FlintModel
import LambdaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Semantic search over an index built at package time (`flint index`): the query is embedded and the top-k
/// documents come back with scores (cosine similarity) and their stored fields (id, text, metadata).
///
/// Request (direct invocation, or the JSON body of `POST /search` over HTTP): `{"query": "text" | ["text", ...],
/// "top_k": 5}`; `top_k` defaults to function.json's `topK` (5) and may not exceed `maxTopK` (100). Answer:
/// `{"results": [{"score", "document"}], "model", "usage"}` for one query; `{"data": [{"index", "results"}], ...}`
/// for several. The index is `FLINT_INDEX` or function.json's `index` under the task root, and must come from the
/// served model (checked at init).
public struct SearchHandler: LambdaHandler {
    let model: EmbeddingModel
    let search: VectorSearch
    let limits: InputLimits
    let defaultTopK: Int
    let maxTopK: Int
    let metrics: MetricsEmitter
    let drift: DriftMonitor?

    static let fields: Set<String> = ["query", "top_k", "truncate"]

    /// Builds the handler over a model and an index made with it.
    public init(model: EmbeddingModel, index: VectorIndex, configuration: FunctionConfiguration, functionName: String) throws {
        guard index.dimensions == model.dimensions else {
            throw ConfigurationError("the index has \(index.dimensions)-dimensional vectors; the model makes \(model.dimensions)")
        }
        if let indexed = index.info["modelName"]?.string, indexed != model.name {
            throw ConfigurationError("the index was built with model '\(indexed)'; this function serves '\(model.name)'")
        }
        self.model = model
        self.search = VectorSearch(index: index)
        self.limits = try InputLimits(configuration: configuration)
        self.maxTopK = try configuration.integer("maxTopK", default: 100, minimum: 1)
        self.defaultTopK = min(try configuration.integer("topK", default: 5, minimum: 1), maxTopK)
        self.metrics = try MetricsEmitter(configuration: configuration, functionName: functionName, model: model)
        self.drift = try DriftMonitor(model: model, configuration: configuration, metrics: metrics)
    }

    /// The registry's factory: function.json, the model and the index from the task root (or FLINT_MODEL / FLINT_INDEX).
    public static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let root = context.function.taskRoot
        let configuration = try FunctionConfiguration.load(taskRoot: root)
        let model = try EmbeddingModel(path: EmbeddingModel.path(configuration: configuration, taskRoot: root))
        var path = try configuration.string("index", default: "index.flintidx")
        if let variable = getenv("FLINT_INDEX"), variable.pointee != 0 { path = String(cString: variable) }
        if !path.hasPrefix("/") { path = (root.isEmpty ? "." : root) + "/" + path }
        return try SearchHandler(model: model, index: VectorIndex.open(path), configuration: configuration, functionName: context.function.name)
    }

    public func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        try JSONFunction.serve(event, context: context, metrics: metrics, paths: ["/search", "/v1/search"], limits: limits,
                               name: "search", into: &response) { document, measured, out throws(InputError) in
            try answer(document, measured: &measured, into: &out)
        }
    }

    private func answer(_ document: JSONValue, measured: inout InvocationMetrics, into out: inout [UInt8]) throws(InputError) {
        guard let members = document.object else { throw InputError("the request must be a JSON object with a \"query\" field") }
        if let unknown = members.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw InputError("unknown field \"\(unknown)\" (accepted: query, top_k, truncate)")
        }
        var topK = defaultTopK
        if let value = members["top_k"], value != .null {
            guard let number = value.integer, number >= 1, number <= maxTopK else {
                throw InputError("\"top_k\" must be an integer from 1 to \(maxTopK)")
            }
            topK = number
        }
        // The query field has the embeddings request's shape and limits.
        let request: EmbeddingRequest
        do {
            request = try EmbeddingRequest(.object(["input": members["query"] ?? .null, "truncate": members["truncate"] ?? .null]),
                                           limits: limits, modelName: model.name, dimensions: model.dimensions)
        } catch {
            // The same checks as an embeddings request, told in this request's words.
            var message = error.message
            for (said, meant) in [("\"input\"", "\"query\""), ("input[", "query["), ("input is", "query is"), ("input has", "query has")] {
                message = ByteSearch.replacing(said, with: meant, in: message)
            }
            throw InputError(message)
        }
        var stopwatch = Stopwatch()
        let sequences = try model.tokenize(request, limits: limits, measured: &measured)
        measured.tokenizeMilliseconds = stopwatch.lap()
        let vectors = model.embed(sequences, normalize: true)
        measured.forwardMilliseconds = stopwatch.lap()
        drift?.observe(sequences, vectors: vectors)
        let hits = vectors.map { search.search($0, top: topK) }
        measured.searchMilliseconds = stopwatch.lap()

        func writeResults(_ results: [(index: Int, score: Float)]) {
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
        if members["query"]?.string != nil {
            out.append(contentsOf: #"{"results":"#.utf8)
            writeResults(hits[0])
        } else {
            out.append(contentsOf: #"{"data":["#.utf8)
            for (index, results) in hits.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"index":"#.utf8)
                JSONText.appendNumber(Double(index), to: &out)
                out.append(contentsOf: #","results":"#.utf8)
                writeResults(results)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: #","model":"#.utf8)
        JSONText.appendString(model.name, to: &out)
        out.append(contentsOf: #","usage":{"prompt_tokens":"#.utf8)
        JSONText.appendNumber(Double(measured.tokens), to: &out)
        out.append(contentsOf: "}}".utf8)
    }
}
