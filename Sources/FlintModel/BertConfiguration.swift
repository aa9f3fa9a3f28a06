import FlintJSON

/// The hyper-parameters of a BERT-family checkpoint (`config.json`), checked for what Flint supports.
public struct BertConfiguration: Sendable, Equatable {
    /// Width of every hidden state (`hidden_size`).
    public var hiddenSize: Int
    /// Encoder layers (`num_hidden_layers`).
    public var layers: Int
    /// Attention heads (`num_attention_heads`).
    public var heads: Int
    /// Width of the feed-forward layer (`intermediate_size`).
    public var intermediateSize: Int
    /// Position-embedding rows in the checkpoint (`max_position_embeddings`).
    public var maxPositions: Int
    /// Vocabulary size (`vocab_size`).
    public var vocabSize: Int
    /// Token-type (segment) embeddings (`type_vocab_size`).
    public var typeVocabSize: Int
    /// LayerNorm epsilon (`layer_norm_eps`).
    public var layerNormEps: Double

    /// Reads `config.json`; anything that is not a BERT encoder with absolute positions and erf GELU is refused
    /// with an error naming what is unsupported.
    public init(json: JSONValue) throws(ModelFileError) {
        let modelType = json["model_type"]?.string ?? ""
        let architectures = json["architectures"]?.array?.compactMap(\.string) ?? []
        guard modelType == "bert" || architectures.contains(where: { $0.hasPrefix("Bert") }) else {
            let named =
                architectures.isEmpty
                ? "model_type '\(modelType)'"
                : "architecture \(architectures.joined(separator: ", ")) (model_type '\(modelType)')"
            throw ModelFileError("config.json: unsupported \(named): Flint supports BERT (BertModel) checkpoints only")
        }
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = json[key]?.integer, value > 0 else {
                throw ModelFileError("config.json: \(key) is missing or not a positive integer")
            }
            return value
        }
        hiddenSize = try integer("hidden_size")
        layers = try integer("num_hidden_layers")
        heads = try integer("num_attention_heads")
        intermediateSize = try integer("intermediate_size")
        maxPositions = try integer("max_position_embeddings")
        vocabSize = try integer("vocab_size")
        typeVocabSize = json["type_vocab_size"]?.integer ?? 2
        layerNormEps = json["layer_norm_eps"]?.number ?? 1e-12
        guard hiddenSize % heads == 0 else {
            throw ModelFileError(
                "config.json: hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
        }
        let activation = json["hidden_act"]?.string ?? "gelu"
        guard activation == "gelu" else {
            throw ModelFileError(
                "config.json: unsupported hidden_act '\(activation)': Flint implements the exact (erf) 'gelu' only")
        }
        let positions = json["position_embedding_type"]?.string ?? "absolute"
        guard positions == "absolute" else {
            throw ModelFileError("config.json: unsupported position_embedding_type '\(positions)': only 'absolute'")
        }
    }
}
