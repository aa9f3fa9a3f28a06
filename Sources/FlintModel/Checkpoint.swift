import FlintJSON
import WordPiece

/// A BERT checkpoint folder as HF and sentence-transformers save it, read and checked: `config.json`,
/// `model.safetensors`, `vocab.txt`, and when present `tokenizer_config.json`, `sentence_bert_config.json`,
/// `modules.json` and `1_Pooling/config.json`. What the quantizer reads; it downloads nothing.
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
    /// `mean`, `cls` or `max`, from `1_Pooling/config.json` (default mean).
    let pooling: String
    /// Whether `modules.json` lists a Normalize module.
    let normalize: Bool
    /// `max_seq_length` from `sentence_bert_config.json`, at most the checkpoint's positions.
    let maxSequenceLength: Int
    /// `bert.` when the tensors come from a `BertFor*` model, else empty.
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
        configuration = try BertConfiguration(json: try json("config.json", required: true)!)
        guard let weightBytes = try FileBytes.read("\(directory)/model.safetensors") else {
            throw ModelFileError("\(directory)/model.safetensors is missing (only safetensors checkpoints are read)")
        }
        guard let vocabularyText = try FileBytes.read("\(directory)/vocab.txt") else {
            throw ModelFileError("\(directory)/vocab.txt is missing")
        }
        self.weightBytes = weightBytes
        weights = try SafeTensors(bytes: weightBytes)
        let tokens = Vocabulary.lines(vocabularyText)
        guard tokens.count == configuration.vocabSize else {
            throw ModelFileError(
                "vocab.txt has \(tokens.count) tokens but config.json says vocab_size \(configuration.vocabSize)")
        }
        vocabulary = Vocabulary(tokens: tokens)
        let pooling = try json("1_Pooling/config.json", required: false)
        self.pooling =
            pooling?["pooling_mode_cls_token"]?.bool == true
            ? "cls" : pooling?["pooling_mode_max_tokens"]?.bool == true ? "max" : "mean"
        let modules = try json("modules.json", required: false)?.array ?? []
        normalize = modules.contains { $0["type"]?.string?.hasSuffix("Normalize") == true }
        let sentenceConfig = try json("sentence_bert_config.json", required: false)
        maxSequenceLength = min(
            sentenceConfig?["max_seq_length"]?.integer ?? configuration.maxPositions, configuration.maxPositions)
        tokenizerConfiguration = try json("tokenizer_config.json", required: false) ?? .object([:])
        lowercase = tokenizerConfiguration["do_lower_case"]?.bool ?? true
        prefix = weights.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
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

    /// A tensor's values and shape, found under the checkpoint's prefix (and LayerNorm's old gamma / beta names),
    /// checked for shape and finiteness.
    func floats(_ tensor: Quantizer.ExpectedTensor) throws(ModelFileError) -> (values: [Float], shape: [Int]) {
        let name = tensor.name
        // Old TensorFlow-converted checkpoints name LayerNorm parameters gamma and beta.
        let candidates = [
            prefix + name, prefix + name.replacingSuffix(".weight", with: ".gamma"),
            prefix + name.replacingSuffix(".bias", with: ".beta"),
        ]
        guard let source = candidates.first(where: { weights.entries[$0] != nil }), let entry = weights.entries[source]
        else {
            throw ModelFileError("model.safetensors: tensor \(prefix + name) is missing")
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
