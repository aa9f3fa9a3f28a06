import FlintJSON
import WordPiece

/// A BERT or DistilBERT checkpoint folder as `transformers` and sentence-transformers save it, read and checked:
/// `config.json`, `model.safetensors`, `vocab.txt`, and when present `tokenizer_config.json`, `tokenizer.json`,
/// `sentence_bert_config.json`, `config_sentence_transformers.json`, `modules.json` and the pooling module's
/// `config.json`. What the quantizer reads; it downloads nothing.
///
/// Anything it cannot serve faithfully is refused with one line naming it (a model class, a sentence-transformers
/// module, a pooling mode, a tokenizer type, a missing file), never read as a different model.
struct Checkpoint {
    let directory: String
    let configuration: BertConfiguration
    /// `model.safetensors`' bytes (their SHA-256 names the source in the metadata).
    let weightBytes: [UInt8]
    let weights: SafeTensors
    let vocabulary: Vocabulary
    /// `tokenizer_config.json`, or an empty object.
    let tokenizerConfiguration: JSONValue
    /// `do_lower_case` (default true).
    let lowercase: Bool
    /// Pooling, normalisation, prompts and the classification head.
    let task: ModelTask
    /// sentence-transformers' `max_seq_length`, else the tokenizer's `model_max_length`, at most the checkpoint's
    /// positions.
    let maxSequenceLength: Int
    /// `bert.` / `distilbert.` when the tensors come from a `…ForSequenceClassification` model, else empty.
    let prefix: String

    init(directory: String) throws(ModelFileError) {
        self.directory = directory
        func json(_ file: String, required: Bool) throws(ModelFileError) -> JSONValue? {
            guard let bytes = try FileBytes.read("\(directory)/\(file)") else {
                if required { throw ModelFileError("\(directory)/\(file) is missing") }
                return nil
            }
            do { return try JSONValue(parsing: bytes) } catch { throw ModelFileError("\(directory)/\(file): \(error)") }
        }
        let config = try json("config.json", required: true)!
        configuration = try BertConfiguration(json: config)
        tokenizerConfiguration = try json("tokenizer_config.json", required: false) ?? .object([:])
        let tokenizerJSON = try json("tokenizer.json", required: false)
        try Self.checkTokenizer(tokenizerConfiguration, tokenizerJSON)
        guard let weightBytes = try FileBytes.read("\(directory)/model.safetensors") else {
            throw ModelFileError("\(directory)/model.safetensors is missing (only safetensors checkpoints are read)")
        }
        self.weightBytes = weightBytes
        weights = try SafeTensors(bytes: weightBytes)
        // The vocabulary: vocab.txt, or the WordPiece model's in tokenizer.json (sentence-transformers 5+ saves only
        // that one).
        let tokens: [[UInt8]], source: String
        if let vocabularyText = try FileBytes.read("\(directory)/vocab.txt") {
            (tokens, source) = (Vocabulary.lines(vocabularyText), "vocab.txt")
        } else if let pieces = tokenizerJSON?["model"]?["vocab"]?.object {
            var ordered = [[UInt8]?](repeating: nil, count: pieces.count)
            for (token, id) in pieces {
                guard let id = id.integer, ordered.indices.contains(id), ordered[id] == nil else {
                    throw ModelFileError(
                        "tokenizer.json: the vocabulary's ids are not 0…\(pieces.count - 1), each once")
                }
                ordered[id] = Array(token.utf8)
            }
            (tokens, source) = (ordered.map { $0! }, "tokenizer.json's vocabulary")
        } else {
            throw ModelFileError(
                "\(directory)/vocab.txt is missing, and no tokenizer.json holds the WordPiece vocabulary")
        }
        guard tokens.count == configuration.vocabSize else {
            throw ModelFileError(
                "\(source) has \(tokens.count) tokens but config.json says vocab_size \(configuration.vocabSize)")
        }
        vocabulary = Vocabulary(tokens: tokens)
        lowercase = tokenizerConfiguration["do_lower_case"]?.bool ?? true

        var task = ModelTask()
        let modules = try json("modules.json", required: false)?.array ?? []
        for module in modules {
            let type = module["type"]?.string ?? "", path = module["path"]?.string ?? ""
            if type.hasSuffix(".Transformer") {
                guard path.isEmpty else {
                    throw ModelFileError(
                        "modules.json: a Transformer module in '\(path)' is not supported (only at the top)")
                }
            } else if type.hasSuffix(".Pooling") {
                task.pooling = try Self.pooling(try json("\(path)/config.json", required: true)!, path: path)
            } else if type.hasSuffix(".Normalize") {
                task.normalize = true
            } else {
                throw ModelFileError(
                    "modules.json: module \(type) ('\(path)') is not supported (Flint reads Transformer, Pooling and Normalize)"
                )
            }
        }
        if modules.isEmpty, let pooling = try json("1_Pooling/config.json", required: false) {
            task.pooling = try Self.pooling(pooling, path: "1_Pooling")
        }
        let sentenceTransformers = try json("config_sentence_transformers.json", required: false)
        for (name, value) in sentenceTransformers?["prompts"]?.object ?? [:] {
            guard let text = value.string else {
                throw ModelFileError("config_sentence_transformers.json: prompts.\(name) is not a string")
            }
            task.prompts[name] = text
        }
        if let name = sentenceTransformers?["default_prompt_name"]?.string {
            guard task.prompts[name] != nil else {
                throw ModelFileError(
                    "config_sentence_transformers.json: default_prompt_name '\(name)' is not one of its prompts")
            }
            task.defaultPromptName = name
        }
        if configuration.classifies {
            task.classifier = try Self.classifier(config, configuration, sentenceTransformers: sentenceTransformers)
        }
        self.task = task

        let sentenceConfig = try json("sentence_bert_config.json", required: false)
        // transformers writes a huge model_max_length (1e30) when a tokenizer has no limit of its own.
        let tokenizerLimit = tokenizerConfiguration["model_max_length"]?.number.flatMap { $0 < 1e9 ? Int($0) : nil }
        maxSequenceLength = min(
            sentenceConfig?["max_seq_length"]?.integer ?? tokenizerLimit ?? configuration.maxPositions,
            configuration.maxPositions)
        let headPrefix = configuration.architecture == .bert ? "bert." : "distilbert."
        prefix = weights.entries[headPrefix + "embeddings.word_embeddings.weight"] != nil ? headPrefix : ""
    }

    /// WordPiece only: `tokenizer.json`'s model type and `tokenizer_config.json`'s class, when present, must say so.
    private static func checkTokenizer(
        _ configuration: JSONValue, _ tokenizerJSON: JSONValue?
    ) throws(ModelFileError) {
        if let type = tokenizerJSON?["model"]?["type"]?.string, type != "WordPiece" {
            throw ModelFileError(
                "tokenizer.json: unsupported tokenizer type \(type): Flint implements BERT's WordPiece only")
        }
        if let prefix = tokenizerJSON?["model"]?["continuing_subword_prefix"]?.string, prefix != "##" {
            throw ModelFileError("tokenizer.json: unsupported continuing_subword_prefix '\(prefix)' (only ##)")
        }
        let known = ["BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast"]
        if let name = configuration["tokenizer_class"]?.string, !known.contains(name) {
            throw ModelFileError(
                "tokenizer_config.json: unsupported tokenizer_class \(name): Flint implements BERT's WordPiece only (\(known.joined(separator: ", ")))"
            )
        }
    }

    /// A Pooling module's mode: the legacy `pooling_mode_*` flags or the newer `pooling_mode`; one mode, prompt
    /// tokens included.
    private static func pooling(_ config: JSONValue, path: String) throws(ModelFileError) -> ModelTask.Pooling {
        let file = "\(path)/config.json"
        let legacy = [
            ("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_tokens", "mean"),
            ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"),
            ("pooling_mode_weightedmean_tokens", "weightedmean"), ("pooling_mode_lasttoken", "lasttoken"),
        ]
        var modes: [String]
        if let mode = config["pooling_mode"] {
            modes = mode.string.map { [$0] } ?? mode.array?.compactMap(\.string) ?? []
        } else {
            modes = legacy.filter { config[$0.0]?.bool == true }.map(\.1)
            if modes.isEmpty { modes = ["mean"] }
        }
        guard modes.count == 1 else {
            throw ModelFileError(
                "\(file): pooling modes \(modes.joined(separator: " + ")) together are not supported (one mode only)")
        }
        guard config["include_prompt"]?.bool ?? true else {
            throw ModelFileError("\(file): include_prompt false (prompt tokens left out of pooling) is not supported")
        }
        let names: [String: ModelTask.Pooling] = [
            "cls": .cls, "mean": .mean, "max": .max, "mean_sqrt_len_tokens": .meanSqrtLength,
        ]
        guard let pooling = names[modes[0]] else {
            throw ModelFileError(
                "\(file): pooling mode \(modes[0]) is not supported (Flint pools by cls, mean, max or mean_sqrt_len_tokens)"
            )
        }
        return pooling
    }

    /// A sequence classifier's labels, problem type and cross-encoder activation.
    private static func classifier(
        _ config: JSONValue, _ configuration: BertConfiguration, sentenceTransformers: JSONValue?
    ) throws(ModelFileError) -> ModelTask.Classifier {
        let names = config["id2label"]?.object ?? [:]
        let count = config["num_labels"]?.integer ?? names.count
        guard count >= 1 else { throw ModelFileError("config.json: a classifier needs id2label or num_labels") }
        let labels = (0..<count).map { names[String($0)]?.string ?? "LABEL_\($0)" }
        guard Set(labels).count == labels.count else { throw ModelFileError("config.json: id2label repeats a label") }
        var problem: ModelTask.ProblemType? = nil
        if let name = config["problem_type"]?.string {
            guard let parsed = ModelTask.ProblemType(rawValue: name) else {
                throw ModelFileError("config.json: unsupported problem_type '\(name)'")
            }
            problem = parsed
        }
        // sentence-transformers keeps CrossEncoder's activation in config_sentence_transformers.json (v5+), under
        // config.json's sentence_transformers (v4), or as sbert_ce_default_activation_function (before v4).
        let path =
            sentenceTransformers?["activation_fn"]?.string ?? config["sentence_transformers"]?["activation_fn"]?.string
            ?? config["sbert_ce_default_activation_function"]?.string
        var activation: ModelTask.ScoreFunction = count == 1 ? .sigmoid : .identity
        if let path {
            let known: [String: ModelTask.ScoreFunction] = [
                "Sigmoid": .sigmoid, "Identity": .identity, "Tanh": .tanh, "Softmax": .softmax,
            ]
            guard let function = path.split(separator: ".").last.flatMap({ known[String($0)] }) else {
                throw ModelFileError(
                    "CrossEncoder activation_fn \(path) is not supported (Sigmoid, Identity, Tanh or Softmax)")
            }
            activation = function
        }
        return ModelTask.Classifier(
            head: configuration.architecture == .bert ? .poolerTanh : .preClassifierReLU, labels: labels,
            problemType: problem, crossEncoderActivation: activation)
    }

    /// Vocabulary ids the tokenizer can never produce (ascending).
    func unreachableTokenIDs() -> [Int32] {
        var tokenizer = TokenizerConfiguration()
        tokenizer.lowercase = lowercase
        tokenizer.handleChineseCharacters = tokenizerConfiguration["tokenize_chinese_chars"]?.bool ?? true
        tokenizer.specialTokens = ["unk", "cls", "sep", "pad", "mask"].map {
            tokenizerConfiguration["\($0)_token"]?.string ?? "[\($0.uppercased())]"
        }
        return (try? WordPieceTokenizer(vocabulary: vocabulary, configuration: tokenizer))?.unreachableIDs ?? []
    }

    /// A tensor's values and shape, found under its checkpoint name (``Quantizer/ExpectedTensor/source``, after
    /// the model's prefix unless it is a classifier's own layer, or LayerNorm's old gamma / beta names), checked for
    /// shape and finiteness.
    func floats(_ tensor: Quantizer.ExpectedTensor) throws(ModelFileError) -> (values: [Float], shape: [Int]) {
        let name = (tensor.prefixed ? prefix : "") + tensor.source
        // Old TensorFlow-converted checkpoints name LayerNorm parameters gamma and beta.
        let candidates = [
            name, name.replacingSuffix(".weight", with: ".gamma"), name.replacingSuffix(".bias", with: ".beta"),
        ]
        guard let source = candidates.first(where: { weights.entries[$0] != nil }), let entry = weights.entries[source]
        else {
            throw ModelFileError("model.safetensors: tensor \(name) is missing")
        }
        guard entry.shape == tensor.shape else {
            throw ModelFileError(
                "model.safetensors: tensor \(source) has shape \(entry.shape), expected \(tensor.shape)")
        }
        let values = try weights.floats(source)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw ModelFileError("model.safetensors: tensor \(source) has a non-finite value at element \(bad)")
        }
        return (values, tensor.shape)
    }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
