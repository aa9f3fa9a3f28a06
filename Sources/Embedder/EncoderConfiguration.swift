import FlintJSON
import FlintModel

/// The encoder's hyper-parameters and head (pooling, normalisation), from a model file's metadata.
public struct EncoderConfiguration: Sendable, Equatable {
    public enum Pooling: String, Sendable { case mean, cls, max }

    public let hiddenSize: Int
    public let layers: Int
    public let heads: Int
    public let intermediateSize: Int
    public let maxPositions: Int
    public let typeVocabSize: Int
    public let layerNormEps: Float
    public let pooling: Pooling
    public let normalize: Bool
    /// Longest input, in tokens (special tokens included).
    public let maxSequenceLength: Int

    /// Reads the metadata; missing or inconsistent values are an error naming the key.
    public init(metadata: JSONValue) throws(ModelFileError) {
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = metadata[key]?.integer, value > 0 else { throw ModelFileError("metadata: \(key) is missing or not positive") }
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
