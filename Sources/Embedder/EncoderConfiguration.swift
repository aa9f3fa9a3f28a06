import FlintJSON
import FlintModel

/// The encoder's hyper-parameters and task (pooling, normalisation, classification head), from a model file's
/// metadata.
public struct EncoderConfiguration: Sendable, Equatable {
    /// How token vectors become one.
    public typealias Pooling = ModelTask.Pooling

    /// Width of the hidden states and of the embedding.
    public let hiddenSize: Int
    /// Encoder layers.
    public let layers: Int
    /// Attention heads.
    public let heads: Int
    /// Width of the feed-forward layer.
    public let intermediateSize: Int
    /// The checkpoint's position count.
    public let maxPositions: Int
    /// Token-type embeddings (0: the model has none, as DistilBERT).
    public let typeVocabSize: Int
    /// LayerNorm epsilon.
    public let layerNormEps: Float
    /// What the output is for: pooling, normalisation, prompts, or a classification head.
    public let task: ModelTask
    /// The pooling the model was trained with.
    public var pooling: Pooling { task.pooling }
    /// Whether embeddings are L2-normalised by default.
    public var normalize: Bool { task.normalize }
    /// Longest input, in tokens (special tokens included).
    public let maxSequenceLength: Int

    /// Reads the metadata; missing or inconsistent values are an error naming the key.
    public init(metadata: JSONValue) throws(ModelFileError) {
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = metadata[key]?.integer, value > 0 else {
                throw ModelFileError("metadata: \(key) is missing or not positive")
            }
            return value
        }
        hiddenSize = try integer("hiddenSize")
        layers = try integer("layers")
        heads = try integer("heads")
        intermediateSize = try integer("intermediateSize")
        maxPositions = try integer("maxPositions")
        let architecture = metadata["architecture"]?.string ?? "bert"
        guard architecture == "bert" || architecture == "distilbert" else {
            throw ModelFileError("metadata: architecture '\(architecture)' is not bert or distilbert")
        }
        typeVocabSize = architecture == "distilbert" ? 0 : try integer("typeVocabSize")
        maxSequenceLength = min(try integer("maxSequenceLength"), maxPositions)
        layerNormEps = Float(metadata["layerNormEps"]?.number ?? 1e-12)
        task = try ModelTask(metadata: metadata)
        guard hiddenSize % heads == 0 else { throw ModelFileError("metadata: hiddenSize is not a multiple of heads") }
    }
}
