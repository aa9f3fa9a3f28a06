import FlintJSON
import FlintModel

/// The encoder's hyper-parameters and head (pooling, normalisation), from a model file's metadata.
public struct EncoderConfiguration: Sendable, Equatable {
    /// How token vectors become one: their mean, the `[CLS]` vector, or the element-wise maximum.
    public enum Pooling: String, Sendable { case mean, cls, max }

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
    /// Token-type embeddings.
    public let typeVocabSize: Int
    /// LayerNorm epsilon.
    public let layerNormEps: Float
    /// The pooling the model was trained with.
    public let pooling: Pooling
    /// Whether embeddings are L2-normalised by default.
    public let normalize: Bool
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
        typeVocabSize = try integer("typeVocabSize")
        maxSequenceLength = min(try integer("maxSequenceLength"), maxPositions)
        layerNormEps = Float(metadata["layerNormEps"]?.number ?? 1e-12)
        guard let pooling = Pooling(rawValue: metadata["pooling"]?.string ?? "mean") else {
            throw ModelFileError("metadata: pooling '\(metadata["pooling"]?.string ?? "")' is not mean, cls or max")
        }
        self.pooling = pooling
        normalize = metadata["normalize"]?.bool ?? false
        guard hiddenSize % heads == 0 else { throw ModelFileError("metadata: hiddenSize is not a multiple of heads") }
    }
}
