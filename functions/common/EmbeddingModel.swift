import Embedder
import FlintJSON
import FlintModel
import LambdaRuntime
import Synchronization
import WordPiece

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The model a function serves: the mapped file, its tokenizer, its task (an embedding model with its prompts, or a
/// classifier with its head) and one encoder, shared by every runtime loop of the environment.
///
/// ``FunctionSetup`` says which file (`FLINT_MODEL`, else function.json's `model` under the task root) and which
/// prompts function.json adds.
/// The encoder is used under a lock: its kernels already spread one forward pass over every core, so concurrent
/// loops (Lambda Managed Instances) gain nothing from encoders of their own but memory.
public final class EmbeddingModel: Sendable {
    /// The mapped file (metadata, tensors).
    public let file: ModelFile
    /// The model's tokenizer.
    public let tokenizer: WordPieceTokenizer
    /// `modelName` from the metadata (what responses and metrics call it).
    public let name: String
    /// A short version: the first 12 hex digits of the source weights' SHA-256, or `unknown`.
    public let version: String
    /// The embedding width.
    public let dimensions: Int
    /// The most tokens one text may have, `[CLS]` and `[SEP]` included.
    public let maxTokens: Int
    /// What the model's output is for: pooling and prompts, or a classification head.
    public let task: ModelTask
    /// The prompts texts are embedded with, the model's and function.json's.
    public let prompts: Prompts
    private let encoder: Mutex<Encoder>

    /// Opens the model at `path`, its encoder quantizing activations as `compute` says; `prompts` (function.json's)
    /// add to or replace the model's by name, and `defaultPromptName` replaces its default.
    public init(
        path: String, compute: ComputeSettings = ComputeSettings(), prompts: [String: String] = [:],
        defaultPromptName: String? = nil
    ) throws {
        let file = try ModelFile.open(path)
        let encoder = try Encoder(model: file, activationGroup: compute.activationGroup)
        self.task = encoder.configuration.task
        do {
            self.prompts = try Prompts(task: task, overrides: prompts, defaultName: defaultPromptName)
        } catch {
            throw ConfigurationError(
                "defaultPromptName '\(defaultPromptName ?? task.defaultPromptName ?? "")' names no prompt (the prompts: \(error.accepted.joined(separator: ", ")))"
            )
        }
        self.file = file
        self.tokenizer = try file.tokenizer()
        self.name = file.metadata["modelName"]?.string ?? "model"
        self.version = file.metadata["sourceSHA256"]?.string.map { String($0.prefix(12)) } ?? "unknown"
        self.dimensions = encoder.configuration.hiddenSize
        self.maxTokens = min(encoder.configuration.maxSequenceLength, tokenizer.configuration.maxLength)
        self.encoder = Mutex(encoder)
    }

    /// Tokenizes one text after `prompt`; `nil` ids when it has more than `maxTokens` tokens and `truncate` is off
    /// (the caller reports it), else at most `maxTokens` ids. `truncated` says whether it was cut.
    public func tokenize(_ text: String, prompt: String = "", truncate: Bool) -> (ids: [Int32]?, truncated: Bool) {
        let encoding = tokenizer.encode(prompt.isEmpty ? text : prompt + text, maxLength: maxTokens + 1)
        guard encoding.ids.count > maxTokens else { return (encoding.ids, false) }
        guard truncate else { return (nil, false) }
        var ids = Array(encoding.ids.prefix(maxTokens - 1))
        ids.append(encoding.ids[encoding.ids.count - 1])  // keep the closing [SEP]
        return (ids, true)
    }

    /// The embeddings of tokenized texts, in order, from packed forward passes.
    public func embed(_ sequences: [[Int32]], normalize: Bool? = nil) -> [[Float]] {
        encoder.withLock { $0.embed(batch: sequences, normalize: normalize) }
    }

    /// The classification head's raw outputs for tokenized texts, or pairs with their type ids, in order; the model
    /// must have a head (``task``).
    public func classify(_ sequences: [[Int32]], typeIDs: [[Int32]]? = nil) -> [[Float]] {
        encoder.withLock { $0.classify(batch: sequences, typeIDs: typeIDs) }
    }
}

extension EmbeddingModel {
    /// Tokenizes a request's texts: a text over the model's token limit is refused unless `truncate`; all of them
    /// together may not exceed `maxTotalTokens`. Messages name each text as the request does. Counts tokens, texts
    /// and truncations into `measured`.
    func tokenize(
        _ texts: InputTexts, prompt: String = "", truncate: Bool, maxTotalTokens: Int, measured: inout InvocationMetrics
    ) throws(InputError) -> [[Int32]] {
        var sequences: [[Int32]] = []
        sequences.reserveCapacity(texts.texts.count)
        var total = 0
        for (index, text) in texts.texts.enumerated() {
            let (ids, truncated) = tokenize(text, prompt: prompt, truncate: truncate)
            guard let ids else {
                throw InputError(
                    "\(texts.name(index)) has more than \(maxTokens) tokens, the model's limit; send \"truncate\": true to cut it"
                )
            }
            total += ids.count
            guard total <= maxTotalTokens else {
                throw InputError("the request has more than \(maxTotalTokens) tokens in all, this function's limit")
            }
            if truncated { measured.truncations += 1 }
            sequences.append(ids)
        }
        measured.tokens += total
        measured.batchSize += sequences.count
        return sequences
    }

    /// An embeddings request's texts, under its own total-token limit.
    func tokenize(
        _ request: EmbeddingRequest, limits: InputLimits, measured: inout InvocationMetrics
    ) throws(InputError) -> [[Int32]] {
        try tokenize(
            request.texts, prompt: try prompt(named: request.inputType), truncate: request.truncate,
            maxTotalTokens: request.maxTotalTokens(limits), measured: &measured)
    }

    /// The prompt text for a request's `input_type` (nil: the default prompt, if any); an unknown name is an
    /// ``InputError`` listing the accepted ones.
    func prompt(named name: String?) throws(InputError) -> String {
        do { return try prompts.text(for: name) } catch {
            let accepted = error.accepted.map { "\"\($0)\"" }.joined(separator: ", ")
            throw InputError("\"input_type\" '\(name ?? "")' is not one of this model's prompt names (\(accepted))")
        }
    }

    /// Fails init unless the model is an embedding model: `function` cannot serve a classifier.
    func requireEmbeddings(for function: String) throws {
        guard let head = task.classifier else { return }
        throw ConfigurationError(
            "the model '\(name)' is a sequence classifier (\(head.labels.count) label\(head.labels.count == 1 ? "" : "s")), not an embedding model; \(function) needs embeddings (serve it with classify\(head.labels.count == 1 ? " or rerank" : ""))"
        )
    }
}
