import FlintJSON
import WordPiece

/// Turns a BERT or DistilBERT checkpoint directory (HF / sentence-transformers layout; see ``Checkpoint``) into a
/// Flint model file's bytes: the encoder, and a sequence classifier's head when the checkpoint has one.
///
/// Linear weights and the word and position embeddings become int8 with one f32 scale per row; LayerNorm
/// parameters, biases, token-type embeddings and the classification head (small, read once a text) stay f32.
/// Deterministic: the same directory gives the same bytes. It does not download anything.
public enum Quantizer {
    /// What was stored, for the report `flint quantize` prints.
    public struct Report: Sendable {
        /// One tensor as written.
        public struct Tensor: Sendable {
            /// Its name in the file.
            public let name: String
            /// Its dimensions as stored.
            public let shape: [Int]
            /// How it is stored.
            public let dataType: TensorInfo.DataType
            /// Bytes in the file, scales included.
            public let storedBytes: Int
            /// ‖w − dequantized(w)‖ / ‖w‖ (0 for f32).
            public let relativeError: Double
        }
        /// Every tensor written, in file order.
        public var tensors: [Tensor] = []
        /// Size of the source `model.safetensors`.
        public var sourceBytes = 0
        /// Size of the model file written.
        public var fileBytes = 0
    }

    /// The version written into every file.
    public static let producer = "flint 0.1"

    /// Quantizes the checkpoint in `directory`; `modelName` goes into the metadata. With `float32`, every tensor
    /// is kept in f32 instead (a reference file for fidelity tests, about four times larger). `extraMetadata` is
    /// merged into the metadata object (the CLI adds `referenceProfile` this way); it cannot replace a key the
    /// quantizer writes. Word-embedding rows are quantized onto ±`wordEmbeddingLevels` (1…127; see
    /// ``defaultWordEmbeddingLevels``); every other int8 tensor onto ±127. The embedding tables (word and position)
    /// have one scale per `embeddingGroup` columns (0: one a row; it must divide the hidden size; nil:
    /// ``defaultEmbeddingGroup`` where it divides the hidden size, else one a row).
    ///
    /// With `gptq`, a linear weight named in `inputStatistics` (by its name in the file,
    /// `encoder.layer.0.attention.self.query.weight`) is rounded with ``GPTQRounding`` against those statistics of
    /// its inputs; the others, and all without `gptq`, to nearest.
    /// With `smoothing` α > 0 every linear layer's inputs are smoothed (``InputSmoothing``) by those statistics,
    /// which must then cover every linear weight. `metadataFromModel`, when given, sees the quantized model and returns metadata to add (as `extraMetadata`):
    /// the tensors are quantized once, and written again beside it.
    public static func quantize(
        directory: String, modelName: String, float32: Bool = false,
        wordEmbeddingLevels: Int = defaultWordEmbeddingLevels, embeddingGroup requested: Int? = nil,
        inputStatistics: [String: InputStatistics] = [:], gptq: Bool = true, smoothing: Double = 0,
        extraMetadata: [String: JSONValue] = [:],
        metadataFromModel: ((ModelFile) throws(ModelFileError) -> [String: JSONValue])? = nil
    ) throws(ModelFileError) -> (bytes: [UInt8], report: Report) {
        guard (1...127).contains(wordEmbeddingLevels) else {
            throw ModelFileError("word-embedding levels must be within 1…127, not \(wordEmbeddingLevels)")
        }
        let source = try Checkpoint(directory: directory)
        let hidden = source.configuration.hiddenSize
        let embeddingGroup = requested ?? (hidden % defaultEmbeddingGroup == 0 ? defaultEmbeddingGroup : 0)
        guard embeddingGroup >= 0, embeddingGroup == 0 || hidden % embeddingGroup == 0 else {
            throw ModelFileError(
                "embedding group \(embeddingGroup) does not divide the hidden size \(source.configuration.hiddenSize)")
        }
        // Rows no text can reach are left out: word-embedding rows of pieces the tokenizer can never produce
        // (their ids go in the metadata, `prunedTokenIds`), and position rows past the longest sequence.
        let pruned = source.unreachableTokenIDs()
        var report = Report()
        report.sourceBytes = source.weightBytes.count
        var payloads: [TensorPayload] = []
        let expected = expectedTensors(source.configuration, labels: source.task.classifier?.labels.count ?? 0)
        let factors =
            float32 || smoothing <= 0
            ? [:] : try smoothingFactors(expected, from: source, statistics: inputStatistics, strength: smoothing)
        for tensor in expected {
            let payload = try store(
                tensor, from: source, pruned: Set(pruned.map(Int.init)), float32: float32,
                wordEmbeddingLevels: wordEmbeddingLevels, embeddingGroup: embeddingGroup,
                statistics: gptq ? inputStatistics[tensor.name] : nil, smoothing: factors[tensor.name], report: &report)
            payloads.append(payload)
        }
        // The multipliers the encoder applies to each smoothed input: 1/s, one tensor per input (q, k, v share).
        var written = Set<String>()
        for tensor in expected {
            guard let factor = factors[tensor.name] else { continue }
            let name = InputSmoothing.tensorName(forWeight: tensor.name)
            guard written.insert(name).inserted else { continue }
            var data: [UInt8] = []
            for s in factor { withUnsafeBytes(of: (1 / s).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            report.tensors.append(
                .init(name: name, shape: [factor.count], dataType: .float32, storedBytes: data.count, relativeError: 0))
            payloads.append(TensorPayload(name: name, dataType: .float32, shape: [factor.count], data: data))
        }
        var members = try metadata(source, modelName: modelName, float32: float32)
        if !pruned.isEmpty { members["prunedTokenIds"] = .array(pruned.map { .number(Double($0)) }) }
        if !float32 && wordEmbeddingLevels < 127 {
            members["wordEmbeddingLevels"] = .number(Double(wordEmbeddingLevels))
        }
        if !float32 && embeddingGroup > 0 { members["embeddingGroup"] = .number(Double(embeddingGroup)) }
        if !float32 && !factors.isEmpty { members["inputSmoothing"] = .number(smoothing) }
        if !float32 && gptq && !inputStatistics.isEmpty { members["linearRounding"] = .string("gptq") }
        for (key, value) in extraMetadata where members[key] == nil { members[key] = value }
        let assets = TokenizerAssets.serialize(vocabulary: source.vocabulary, tables: UnicodeTables.shared)
        var bytes = ModelWriter.encode(metadata: .object(members), tokenizerAssets: assets, tensors: payloads)
        if let metadataFromModel {
            for (key, value) in try metadataFromModel(try ModelFile(bytes: bytes)) where members[key] == nil {
                members[key] = value
            }
            bytes = ModelWriter.encode(metadata: .object(members), tokenizerAssets: assets, tensors: payloads)
        }
        report.fileBytes = bytes.count
        return (bytes, report)
    }

    /// A tensor the file holds: its name in the file (BERT's names, whatever the family), its name in the
    /// checkpoint, its shape, whether it is quantized (linear weights and the word and position embeddings) or kept
    /// in f32, and whether the checkpoint names it under the model's prefix (`bert.`, `distilbert.`) or beside it
    /// (a classifier's own layers).
    struct ExpectedTensor {
        let name: String
        let source: String
        let shape: [Int]
        let quantized: Bool
        var prefixed = true
    }

    /// Every tensor of an encoder of this configuration, as HF's `BertModel` names them (DistilBERT's are read
    /// under their own names and stored under BERT's: the layers compute the same thing), then the classification
    /// head's, kept in f32.
    static func expectedTensors(_ configuration: BertConfiguration, labels: Int) -> [ExpectedTensor] {
        let h = configuration.hiddenSize, i = configuration.intermediateSize
        let distil = configuration.architecture == .distilbert
        func tensor(_ name: String, _ shape: [Int], quantized: Bool, source: String? = nil) -> ExpectedTensor {
            ExpectedTensor(name: name, source: source ?? name, shape: shape, quantized: quantized)
        }
        var expected: [ExpectedTensor] = [
            tensor("embeddings.word_embeddings.weight", [configuration.vocabSize, h], quantized: true),
            tensor("embeddings.position_embeddings.weight", [configuration.maxPositions, h], quantized: true),
            tensor("embeddings.LayerNorm.weight", [h], quantized: false),
            tensor("embeddings.LayerNorm.bias", [h], quantized: false),
        ]
        if configuration.typeVocabSize > 0 {
            expected.append(
                tensor("embeddings.token_type_embeddings.weight", [configuration.typeVocabSize, h], quantized: false))
        }
        for layer in 0..<configuration.layers {
            let p = "encoder.layer.\(layer).", d = "transformer.layer.\(layer)."
            func linear(_ name: String, _ distilName: String, _ outputs: Int, _ inputs: Int) -> [ExpectedTensor] {
                let source = distil ? d + distilName : nil
                return [
                    tensor(
                        p + name + ".weight", [outputs, inputs], quantized: true, source: source.map { $0 + ".weight" }),
                    tensor(p + name + ".bias", [outputs], quantized: false, source: source.map { $0 + ".bias" }),
                ]
            }
            func norm(_ name: String, _ distilName: String) -> [ExpectedTensor] {
                let source = distil ? d + distilName : nil
                return [
                    tensor(p + name + ".weight", [h], quantized: false, source: source.map { $0 + ".weight" }),
                    tensor(p + name + ".bias", [h], quantized: false, source: source.map { $0 + ".bias" }),
                ]
            }
            expected +=
                linear("attention.self.query", "attention.q_lin", h, h)
                + linear("attention.self.key", "attention.k_lin", h, h)
                + linear("attention.self.value", "attention.v_lin", h, h)
            expected +=
                linear("attention.output.dense", "attention.out_lin", h, h)
                + norm("attention.output.LayerNorm", "sa_layer_norm")
            expected +=
                linear("intermediate.dense", "ffn.lin1", i, h) + linear("output.dense", "ffn.lin2", h, i)
                + norm("output.LayerNorm", "output_layer_norm")
        }
        guard labels > 0 else { return expected }
        let pre = distil ? "pre_classifier" : "pooler.dense"
        expected += [
            ExpectedTensor(
                name: pre + ".weight", source: pre + ".weight", shape: [h, h], quantized: false, prefixed: !distil),
            ExpectedTensor(name: pre + ".bias", source: pre + ".bias", shape: [h], quantized: false, prefixed: !distil),
            ExpectedTensor(
                name: "classifier.weight", source: "classifier.weight", shape: [labels, h], quantized: false,
                prefixed: false),
            ExpectedTensor(
                name: "classifier.bias", source: "classifier.bias", shape: [labels], quantized: false, prefixed: false),
        ]
        return expected
    }

    /// One tensor as the file stores it: read from the checkpoint and checked, its unreachable rows dropped, then
    /// quantized (linear weights in the kernels' packed layout) or kept in f32.
    static func store(
        _ tensor: ExpectedTensor, from source: Checkpoint, pruned: Set<Int>, float32: Bool, wordEmbeddingLevels: Int,
        embeddingGroup: Int, statistics: InputStatistics? = nil, smoothing: [Float]? = nil, report: inout Report
    ) throws(ModelFileError) -> TensorPayload {
        let name = tensor.name
        var (values, shape) = try source.floats(tensor)
        var statistics = statistics
        if let smoothing {
            // Column j carries s_j; its inputs arrive divided by s_j.
            let k = smoothing.count
            for index in values.indices { values[index] *= smoothing[index % k] }
            statistics = statistics?.scaled(by: smoothing.map { 1 / $0 })
        }
        let h = source.configuration.hiddenSize, maxSequence = source.maxSequenceLength
        if name == "embeddings.word_embeddings.weight" && !pruned.isEmpty {
            values = (0..<shape[0]).filter { !pruned.contains($0) }.flatMap { values[($0 * h)..<(($0 + 1) * h)] }
            shape[0] -= pruned.count
        } else if name == "embeddings.position_embeddings.weight" && maxSequence < shape[0] {
            values = Array(values.prefix(maxSequence * h))
            shape[0] = maxSequence
        }
        guard tensor.quantized && !float32 else {
            var data: [UInt8] = []
            data.reserveCapacity(values.count * 4)
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            report.tensors.append(
                .init(name: name, shape: shape, dataType: .float32, storedBytes: data.count, relativeError: 0))
            return TensorPayload(name: name, dataType: .float32, shape: shape, data: data)
        }
        let levels = name == "embeddings.word_embeddings.weight" ? wordEmbeddingLevels : 127
        // Embedding tables: one scale per group of columns when asked (a text repeating one token repeats its row's
        // rounding on every token, where pooling cannot average it away); quantizeRows sees each group as a row.
        let grouped = name.hasPrefix("embeddings.") && embeddingGroup > 0
        if let statistics, !name.hasPrefix("encoder.") || shape.count != 2 || statistics.columns != shape[1] {
            throw ModelFileError(
                "input statistics of \(statistics.columns) columns do not fit tensor \(name) of shape \(shape)")
        }
        var (data, scales, error) =
            statistics.flatMap {
                GPTQRounding.quantize(values, rows: shape[0], columns: shape[shape.count - 1], statistics: $0)
            }
            ?? quantizeRows(values, rowLength: grouped ? embeddingGroup : shape[shape.count - 1], levels: levels)
        // Linear weights go in the kernels' packed layout; embedding tables stay row-major, since they are read a
        // row at a time.
        let linear = name.hasPrefix("encoder.")
        if linear {
            guard PackedLayout.fits(shape) else {
                throw ModelFileError(
                    "model.safetensors: tensor \(name) has shape \(shape); Flint's kernels need rows a multiple of 8 and columns of 4"
                )
            }
            data = PackedLayout.pack(data, rows: shape[0], columns: shape[1])
        }
        let type: TensorInfo.DataType = linear ? .int8Packed : .int8
        report.tensors.append(
            .init(
                name: name, shape: shape, dataType: type, storedBytes: data.count + scales.count * 4,
                relativeError: error))
        return TensorPayload(name: name, dataType: type, shape: shape, data: data, scales: scales)
    }

    /// s for every linear weight (``InputSmoothing``), by name: from the inputs' statistics and the largest weights
    /// of each column over the layers that read them (the attention projections share theirs).
    static func smoothingFactors(
        _ expected: [ExpectedTensor], from source: Checkpoint, statistics: [String: InputStatistics], strength: Double
    ) throws(ModelFileError) -> [String: [Float]] {
        let linears = expected.filter { $0.quantized && $0.name.hasPrefix("encoder.") }
        let groups = Dictionary(grouping: linears) { InputSmoothing.tensorName(forWeight: $0.name) }
        var factors: [String: [Float]] = [:]
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            guard let inputs = statistics[group[0].name] else {
                throw ModelFileError("input smoothing needs input statistics of \(group[0].name)")
            }
            var weightMaxima = [Float](repeating: 0, count: inputs.columns)
            for tensor in group {
                let (values, shape) = try source.floats(tensor)
                guard shape.count == 2, shape[1] == inputs.columns else {
                    throw ModelFileError(
                        "input statistics of \(inputs.columns) columns do not fit tensor \(tensor.name)")
                }
                for (index, value) in values.enumerated() {
                    weightMaxima[index % shape[1]] = max(weightMaxima[index % shape[1]], abs(value))
                }
            }
            let s = InputSmoothing.factors(inputMaxima: inputs.absMax, weightMaxima: weightMaxima, strength: strength)
            for tensor in group { factors[tensor.name] = s }
        }
        return factors
    }

    /// The metadata object: the configuration, pooling, normalisation and tokenizer settings, and where the file
    /// came from.
    static func metadata(
        _ source: Checkpoint, modelName: String, float32: Bool
    ) throws(ModelFileError) -> [String: JSONValue] {
        let configuration = source.configuration, tokenizerConfig = source.tokenizerConfiguration
        var tokenizer: [String: JSONValue] = [
            "lowercase": .bool(source.lowercase),
            "cleanText": .bool(true),
            "handleChineseChars": .bool(tokenizerConfig["tokenize_chinese_chars"]?.bool ?? true),
            "maxInputCharsPerWord": .number(100),
            "continuationPrefix": .string("##"),
        ]
        if let strip = tokenizerConfig["strip_accents"]?.bool { tokenizer["stripAccents"] = .bool(strip) }
        var specials: [JSONValue] = []
        for (key, fallback) in [
            ("unk", "[UNK]"), ("cls", "[CLS]"), ("sep", "[SEP]"), ("pad", "[PAD]"), ("mask", "[MASK]"),
        ] {
            let token = tokenizerConfig["\(key)_token"]?.string ?? fallback
            guard let id = source.vocabulary.id(of: Array(token.utf8)) else {
                if key == "mask" { continue }
                throw ModelFileError("vocab.txt has no \(key) token '\(token)'")
            }
            tokenizer["\(key)Token"] = .string(token)
            tokenizer["\(key)Id"] = .number(Double(id))
            specials.append(.string(token))
        }
        tokenizer["specialTokens"] = .array(specials)
        var members: [String: JSONValue] = [
            "architecture": .string(configuration.architecture.rawValue),
            "modelClass": .string(configuration.modelClass),
            "hiddenSize": .number(Double(configuration.hiddenSize)), "layers": .number(Double(configuration.layers)),
            "heads": .number(Double(configuration.heads)),
            "intermediateSize": .number(Double(configuration.intermediateSize)),
            "maxPositions": .number(Double(configuration.maxPositions)),
            "vocabSize": .number(Double(configuration.vocabSize)),
            "typeVocabSize": .number(Double(configuration.typeVocabSize)),
            "layerNormEps": .number(configuration.layerNormEps),
            "hiddenAct": .string("gelu"),
            "maxSequenceLength": .number(Double(source.maxSequenceLength)), "modelName": .string(modelName),
            "quantization": .string(float32 ? "none" : "int8-symmetric-per-row"),
            "sourceSHA256": .string(source.weightBytes.withUnsafeBytes { SHA256.hex($0) }),
            "producer": .string(producer), "tokenizer": .object(tokenizer),
        ]
        for (key, value) in source.task.metadataMembers { members[key] = value }
        return members
    }

    /// The word embeddings' default levels: ±127, the full int8 range. Fewer levels (`--word-embedding-levels 39`,
    /// about 6.3 bits) deflate 2.2 MB smaller in a deployment zip but cost retrieval agreement and degenerate
    /// texts (MiniLM against sentence-transformers fp32 on the 520-text fixture: nearest neighbours 496 of 520
    /// with ±39, 505 with ±127 in groups of 64; "." × 300: cosine 0.978 against 0.9975; BENCHMARKS.md).
    public static let defaultWordEmbeddingLevels = 127

    /// The embedding tables' default scale groups: one scale per 64 columns (where 64 divides the hidden size; one
    /// a row otherwise). A text that repeats one token repeats that row's rounding on every token, which pooling
    /// cannot average away and six layers amplify; one scale per row let a row's largest value coarsen all the
    /// others. Costs 0.8 MB of a MiniLM zip.
    public static let defaultEmbeddingGroup = 64

    /// Symmetric int8 per row onto ±`levels`: scale = max|row| / levels; returns data, scales and the relative
    /// error.
    static func quantizeRows(_ values: [Float], rowLength: Int, levels: Int = 127) -> ([UInt8], [Float], Double) {
        let rows = values.count / rowLength
        var data = [UInt8](repeating: 0, count: values.count)
        var scales = [Float](repeating: 0, count: rows)
        var errorSum = 0.0, normSum = 0.0
        for row in 0..<rows {
            let start = row * rowLength
            var largest: Float = 0
            for index in start..<(start + rowLength) { largest = max(largest, abs(values[index])) }
            let scale = largest / Float(levels)
            scales[row] = scale
            for index in start..<(start + rowLength) {
                let q = scale == 0 ? 0 : Int8(clamping: Int((values[index] / scale).rounded()))
                data[index] = UInt8(bitPattern: q)
                let difference = Double(values[index]) - Double(q) * Double(scale)
                errorSum += difference * difference
                normSum += Double(values[index]) * Double(values[index])
            }
        }
        return (data, scales, normSum == 0 ? 0 : (errorSum / normSum).squareRoot())
    }
}
