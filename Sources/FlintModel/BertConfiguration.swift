import FlintJSON

/// The hyper-parameters of a BERT-family checkpoint (`config.json`), checked for what Flint supports: BERT
/// (`model_type` `bert`) and DistilBERT (`distilbert`), whose layers compute the same thing under other names and
/// without token types.
public struct BertConfiguration: Sendable, Equatable {
    /// The encoder family, which decides the checkpoint's tensor names.
    public enum Architecture: String, Sendable {
        /// HF's `BertModel`: word, position and token-type embeddings.
        case bert
        /// HF's `DistilBertModel`: word and position embeddings, no token types, `q_lin` … `ffn.lin2` names.
        case distilbert
    }

    /// The encoder family.
    public var architecture: Architecture
    /// The model class `config.json` names (`architectures[0]`), or the base model's when it names none.
    public var modelClass: String
    /// Width of every hidden state (`hidden_size`; DistilBERT's `dim`).
    public var hiddenSize: Int
    /// Encoder layers (`num_hidden_layers`; `n_layers`).
    public var layers: Int
    /// Attention heads (`num_attention_heads`; `n_heads`).
    public var heads: Int
    /// Width of the feed-forward layer (`intermediate_size`; `hidden_dim`).
    public var intermediateSize: Int
    /// Position-embedding rows in the checkpoint (`max_position_embeddings`).
    public var maxPositions: Int
    /// Vocabulary size (`vocab_size`).
    public var vocabSize: Int
    /// Token-type (segment) embeddings (`type_vocab_size`; 0 for DistilBERT, which has none).
    public var typeVocabSize: Int
    /// LayerNorm epsilon (`layer_norm_eps`; DistilBERT's is fixed at 1e-12).
    public var layerNormEps: Double

    /// The model classes Flint serves, base models first.
    public static let supportedClasses = [
        "BertModel", "BertForSequenceClassification", "DistilBertModel", "DistilBertForSequenceClassification",
    ]

    /// Whether the checkpoint is a sequence classifier (a pooler or pre-classifier and a classifier on `[CLS]`).
    public var classifies: Bool { modelClass.hasSuffix("ForSequenceClassification") }

    /// Reads `config.json`; anything that is not one of ``supportedClasses`` with absolute positions and erf GELU is
    /// refused with an error naming what is unsupported.
    public init(json: JSONValue) throws(ModelFileError) {
        let modelType = json["model_type"]?.string ?? ""
        let architectures = json["architectures"]?.array?.compactMap(\.string) ?? []
        guard let architecture = Architecture(rawValue: modelType) else {
            let named =
                architectures.isEmpty
                ? "model_type '\(modelType)'"
                : "architecture \(architectures.joined(separator: ", ")) (model_type '\(modelType)')"
            throw ModelFileError(
                "config.json: unsupported \(named): Flint reads BERT and DistilBERT checkpoints (\(Self.supportedClasses.joined(separator: ", ")))"
            )
        }
        self.architecture = architecture
        modelClass = architectures.first ?? (architecture == .bert ? "BertModel" : "DistilBertModel")
        guard architectures.count <= 1, Self.supportedClasses.contains(modelClass),
            modelClass.hasPrefix(architecture == .bert ? "Bert" : "DistilBert")
        else {
            throw ModelFileError(
                "config.json: unsupported architecture \(architectures.joined(separator: ", ")): Flint serves \(Self.supportedClasses.joined(separator: ", ")); other heads (masked LM, token classification, question answering) are not read"
            )
        }
        func integer(_ key: String) throws(ModelFileError) -> Int {
            guard let value = json[key]?.integer, value > 0 else {
                throw ModelFileError("config.json: \(key) is missing or not a positive integer")
            }
            return value
        }
        let activationKey: String
        switch architecture {
        case .bert:
            hiddenSize = try integer("hidden_size")
            layers = try integer("num_hidden_layers")
            heads = try integer("num_attention_heads")
            intermediateSize = try integer("intermediate_size")
            typeVocabSize = json["type_vocab_size"]?.integer ?? 2
            layerNormEps = json["layer_norm_eps"]?.number ?? 1e-12
            activationKey = "hidden_act"
            let positions = json["position_embedding_type"]?.string ?? "absolute"
            guard positions == "absolute" else {
                throw ModelFileError("config.json: unsupported position_embedding_type '\(positions)': only 'absolute'")
            }
        case .distilbert:
            hiddenSize = try integer("dim")
            layers = try integer("n_layers")
            heads = try integer("n_heads")
            intermediateSize = try integer("hidden_dim")
            typeVocabSize = 0
            layerNormEps = 1e-12
            activationKey = "activation"
            guard json["sinusoidal_pos_embds"]?.bool != true else {
                throw ModelFileError(
                    "config.json: unsupported sinusoidal_pos_embds true: Flint reads learned position embeddings only")
            }
        }
        maxPositions = try integer("max_position_embeddings")
        vocabSize = try integer("vocab_size")
        guard hiddenSize % heads == 0 else {
            throw ModelFileError("config.json: hidden size \(hiddenSize) is not a multiple of \(heads) attention heads")
        }
        let activation = json[activationKey]?.string ?? "gelu"
        guard activation == "gelu" else {
            throw ModelFileError(
                "config.json: unsupported \(activationKey) '\(activation)': Flint implements the exact (erf) 'gelu' only"
            )
        }
    }
}
