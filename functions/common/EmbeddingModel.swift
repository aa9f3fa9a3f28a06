import Embedder
import FlintJSON
import FlintModel
import Synchronization
import WordPiece

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The model a function serves: the mapped file, its tokenizer and one encoder, shared by every runtime loop of the
/// environment.
///
/// The file is `FLINT_MODEL` when set, else function.json's `model` (default `model.flint`) under the task root.
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
    private let encoder: Mutex<Encoder>

    /// Opens the model at `path`.
    public init(path: String) throws {
        let file = try ModelFile.open(path)
        let encoder = try Encoder(model: file)
        self.file = file
        self.tokenizer = try file.tokenizer()
        self.name = file.metadata["modelName"]?.string ?? "model"
        self.version = file.metadata["sourceSHA256"]?.string.map { String($0.prefix(12)) } ?? "unknown"
        self.dimensions = encoder.configuration.hiddenSize
        self.maxTokens = min(encoder.configuration.maxSequenceLength, tokenizer.configuration.maxLength)
        self.encoder = Mutex(encoder)
    }

    /// Where a function's model file is: `FLINT_MODEL`, else `model` from its configuration under the task root.
    public static func path(configuration: FunctionConfiguration, taskRoot: String) throws -> String {
        if let variable = getenv("FLINT_MODEL"), variable.pointee != 0 { return String(cString: variable) }
        let name = try configuration.string("model", default: "model.flint")
        if name.hasPrefix("/") { return name }
        return (taskRoot.isEmpty ? "." : taskRoot) + "/" + name
    }

    /// Tokenizes one text; `nil` ids when it has more than `maxTokens` tokens and `truncate` is off (the caller
    /// reports it), else at most `maxTokens` ids. `truncated` says whether it was cut.
    public func tokenize(_ text: String, truncate: Bool) -> (ids: [Int32]?, truncated: Bool) {
        let encoding = tokenizer.encode(text, maxLength: maxTokens + 1)
        guard encoding.ids.count > maxTokens else { return (encoding.ids, false) }
        guard truncate else { return (nil, false) }
        var ids = Array(encoding.ids.prefix(maxTokens - 1))
        ids.append(encoding.ids[encoding.ids.count - 1])   // keep the closing [SEP]
        return (ids, true)
    }

    /// The embeddings of tokenized texts, in order, from packed forward passes.
    public func embed(_ sequences: [[Int32]], normalize: Bool? = nil) -> [[Float]] {
        encoder.withLock { $0.embed(batch: sequences, normalize: normalize) }
    }
}

extension EmbeddingModel {
    /// Tokenizes a request's texts under the limits: a text over the model's token limit is refused unless the
    /// request asks to truncate; the request's total may not exceed `maxTotalTokens`. Counts tokens, texts and
    /// truncations into `measured`.
    func tokenize(_ request: EmbeddingRequest, limits: InputLimits, measured: inout InvocationMetrics) throws(InputError) -> [[Int32]] {
        var sequences: [[Int32]] = []
        sequences.reserveCapacity(request.inputs.count)
        var total = 0
        for (index, text) in request.inputs.enumerated() {
            let (ids, truncated) = tokenize(text, truncate: request.truncate)
            guard let ids else {
                let name = request.inputs.count == 1 ? "input" : "input[\(index)]"
                throw InputError("\(name) has more than \(maxTokens) tokens, the model's limit; send \"truncate\": true to cut it")
            }
            total += ids.count
            guard total <= limits.maxTotalTokens else {
                throw InputError("the request has more than \(limits.maxTotalTokens) tokens in all, this function's limit")
            }
            if truncated { measured.truncations += 1 }
            sequences.append(ids)
        }
        measured.tokens += total
        measured.batchSize += sequences.count
        return sequences
    }
}
