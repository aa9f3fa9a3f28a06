import FlintJSON
import FlintModel
import LambdaRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Text classification: with the model's own head when it has one (a fine-tuned `…ForSequenceClassification`
/// checkpoint; `ClassifyFunction+Head.swift`), else zero-shot by embedding similarity: each label is described by a
/// sentence, and a text gets the label whose description embeds closest to it.
///
/// Zero-shot:
/// Request (direct, or the JSON body of `POST /classify`): `{"input": "text" | ["text", ...], "labels": [...] |
/// {"label": "description", ...}}`. Labels given as names are described with function.json's `template`
/// (default `This text is about {}.`). Without `labels`, function.json's `labels` apply (their embeddings are
/// computed once, on first use, and kept). Answer: `{"results": [{"index", "label", "scores": [{"label",
/// "score", "similarity"}]}], "model", "usage"}` with scores a softmax of the cosine similarities at
/// `temperature` (default 0.05), best first.
struct ClassifyFunction: FunctionBody {
    /// A label and the sentence that describes it.
    struct Label: Sendable, Equatable {
        /// What is returned.
        let name: String
        /// What is embedded.
        let description: String
    }

    let name = "classify"
    let routes = ["/classify", "/v1/classify"]
    let model: EmbeddingModel
    let limits: InputLimits
    let configuredLabels: [Label]
    let template: String
    let temperature: Float
    let metrics: MetricsEmitter
    let drift: DriftMonitor?
    private let cache = LabelCache()

    /// The configured labels' embeddings, computed on first use (not at init: that would lengthen every cold start).
    final class LabelCache: Sendable {
        let vectors = Mutex<[[Float]]?>(nil)
    }

    static let fields: Set<String> = ["input", "labels", "truncate"]
    static let headFields: Set<String> = ["input", "truncate", "top_k", "function_to_apply"]

    /// Builds the function from function.json (`labels`, `template`, `temperature`, `limits`, `metrics`).
    init(model: EmbeddingModel, setup: FunctionSetup) throws {
        let configuration = setup.configuration
        self.model = model
        self.limits = try InputLimits(configuration: configuration)
        self.template = try configuration.string("template", default: "This text is about {}.")
        guard ByteSearch.contains(template, "{}") else {
            throw ConfigurationError("function.json: template must contain {} where the label goes")
        }
        self.temperature = Float(try configuration.number("temperature", default: 0.05, minimum: 0.0001))
        self.metrics = try setup.metrics(model: model)
        self.drift = try DriftMonitor(model: model, configuration: configuration, metrics: metrics)
        if let labels = configuration.value("labels"), labels != .null {
            do { configuredLabels = try Self.labels(from: labels, template: template) } catch {
                throw ConfigurationError("function.json: labels: \(error.message)")
            }
        } else {
            configuredLabels = []
        }
    }

    /// The registry's factory.
    static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        let setup = try FunctionSetup(context)
        return FunctionHandler(try ClassifyFunction(model: setup.model(), setup: setup))
    }

    /// Labels from a JSON array of names or an object of name → description.
    static func labels(from value: JSONValue, template: String) throws(InputError) -> [Label] {
        var labels: [Label] = []
        if let names = value.array {
            for (index, name) in names.enumerated() {
                guard let text = name.string, !text.isEmpty else {
                    throw InputError("labels[\(index)] must be a non-empty string")
                }
                labels.append(Label(name: text, description: ByteSearch.replacing("{}", with: text, in: template)))
            }
        } else if let described = value.object {
            for name in described.keys.sorted() {
                guard let text = described[name]?.string, !text.isEmpty, !name.isEmpty else {
                    throw InputError("labels.\(name) must be a non-empty description string")
                }
                labels.append(Label(name: name, description: text))
            }
        } else {
            throw InputError(
                "\"labels\" must be an array of names or an object of name → description, not \(value.typeName)")
        }
        guard labels.count >= 2 else { throw InputError("\"labels\" needs at least two labels") }
        guard labels.count <= 256 else { throw InputError("\"labels\" has \(labels.count) labels; at most 256") }
        guard Set(labels.map(\.name)).count == labels.count else { throw InputError("\"labels\" names a label twice") }
        return labels
    }

    func answer(
        _ document: JSONValue, context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) -> StreamWriter? {
        if let head = model.task.classifier {
            try answer(document, head: head, measured: &measured, into: &out)
            return nil
        }
        let members = try RequestMembers.of(document, accepted: Self.fields, mainField: "input")
        let inputs = try InputTexts(members["input"], field: "input", limits: limits, maxInputs: limits.maxInputs)
        let truncate = try InputTexts.flag(members, "truncate") ?? false
        let requested = try members["labels"].flatMap { $0 == .null ? nil : $0 }.map { value throws(InputError) in
            try Self.labels(from: value, template: template)
        }
        let labels = requested ?? configuredLabels
        guard !labels.isEmpty else {
            throw InputError("\"labels\" is required: this function has no labels configured")
        }

        var stopwatch = Stopwatch()
        var sequences = try model.tokenize(
            inputs, truncate: truncate, maxTotalTokens: limits.maxTotalTokens, measured: &measured)
        let cached = requested == nil ? cache.vectors.withLock { $0 } : nil
        if cached == nil {
            for label in labels { sequences.append(model.tokenize(label.description, truncate: true).ids ?? []) }
        }
        measured.tokenizeMilliseconds = stopwatch.lap()
        // Texts and label descriptions in one packed pass.
        let vectors = model.embed(sequences, normalize: true)
        measured.forwardMilliseconds = stopwatch.lap()
        let texts = Array(vectors.prefix(inputs.texts.count))
        drift?.observe(Array(sequences.prefix(inputs.texts.count)), vectors: texts)
        let labelVectors = cached ?? Array(vectors.suffix(labels.count))
        if requested == nil, cached == nil { cache.vectors.withLock { $0 = labelVectors } }

        out.append(contentsOf: #"{"results":["#.utf8)
        for (index, vector) in texts.enumerated() {
            let similarities = labelVectors.map { label in zip(vector, label).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            let scores = Self.softmax(similarities.map { $0 / temperature })
            let order = labels.indices.sorted { scores[$0] > scores[$1] }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"index":"#.utf8)
            JSONText.appendNumber(Double(index), to: &out)
            out.append(contentsOf: #","label":"#.utf8)
            JSONText.appendString(labels[order[0]].name, to: &out)
            out.append(contentsOf: #","scores":["#.utf8)
            for (rank, label) in order.enumerated() {
                if rank > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"label":"#.utf8)
                JSONText.appendString(labels[label].name, to: &out)
                out.append(contentsOf: #","score":"#.utf8)
                JSONText.appendFloat(scores[label], to: &out)
                out.append(contentsOf: #","similarity":"#.utf8)
                JSONText.appendFloat(similarities[label], to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(contentsOf: "]}".utf8)
        }
        measured.searchMilliseconds = stopwatch.lap()
        out.append(UInt8(ascii: "]"))
        AnswerTail.write(model: model.name, tokens: measured.tokens, into: &out)
        return nil
    }

    static func softmax(_ values: [Float]) -> [Float] {
        let largest = values.max() ?? 0
        let exponentials = values.map { expf($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}
