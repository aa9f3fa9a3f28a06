import FlintJSON

/// The hyper-parameters of a BERT-family checkpoint (`config.json`), checked for what Flint supports.
public struct BertConfiguration: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabSize: Int
    public var typeVocabSize: Int
    public var layerNormEps: Double

    /// Reads `config.json`; anything that is not a BERT encoder with absolute positions and erf GELU is refused
    /// with an error naming what is unsupported.
    public init(json: JSONValue) throws(ModelFileError) {
        let modelType = json["model_type"]?.string ?? ""
        let architectures = json["architectures"]?.array?.compactMap(\.string) ?? []
        guard modelType == "bert" || architectures.contains(where: { $0.hasPrefix("Bert") }) else {
            let named = architectures.isEmpty ? "model_type '\(modelType)'" : "architecture \(architectures.joined(separator: ", ")) (model_type '\(modelType)')"
            throw ModelFileError("config.json: unsupported \(named): Flint supports BERT (BertModel) checkpoints only")
        }
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = json[key]?.integer, value > 0 else { throw ModelFileError("config.json: \(key) is missing or not a positive integer") }
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
            throw ModelFileError("config.json: hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(heads)")
        }
        let activation = json["hidden_act"]?.string ?? "gelu"
        guard activation == "gelu" else {
            throw ModelFileError("config.json: unsupported hidden_act '\(activation)': Flint implements the exact (erf) 'gelu' only")
        }
        let positions = json["position_embedding_type"]?.string ?? "absolute"
        guard positions == "absolute" else {
            throw ModelFileError("config.json: unsupported position_embedding_type '\(positions)': only 'absolute'")
        }
    }
}
