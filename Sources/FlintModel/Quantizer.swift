import FlintJSON
import WordPiece

/// Turns a BERT checkpoint directory (HF / sentence-transformers layout) into a Flint model file's bytes.
///
/// Linear weights and the word and position embeddings become int8 with one f32 scale per row; LayerNorm
/// parameters, biases and token-type embeddings stay f32. Deterministic: the same directory gives the same bytes.
/// Reads `config.json`, `model.safetensors`, `vocab.txt`, and when present `tokenizer_config.json`,
/// `sentence_bert_config.json`, `modules.json` and `1_Pooling/config.json`. It does not download anything.
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
    /// ``defaultWordEmbeddingLevels``); every other int8 tensor onto ±127.
    public static func quantize(directory: String, modelName: String, float32: Bool = false,
                                wordEmbeddingLevels: Int = defaultWordEmbeddingLevels,
                                extraMetadata: [String: JSONValue] = [:]) throws(ModelFileError) -> (bytes: [UInt8], report: Report) {
        guard (1...127).contains(wordEmbeddingLevels) else {
            throw ModelFileError("word-embedding levels must be within 1…127, not \(wordEmbeddingLevels)")
        }
        func json(_ file: String, required: Bool) throws(ModelFileError) -> JSONValue? {
            guard let bytes = try FileBytes.read("\(directory)/\(file)") else {
                if required { throw ModelFileError("\(directory)/\(file) is missing") }
                return nil
            }
            do { return try JSONValue(parsing: bytes) } catch { throw ModelFileError("\(directory)/\(file): \(error)") }
        }
        let configuration = try BertConfiguration(json: try json("config.json", required: true)!)
        guard let weightBytes = try FileBytes.read("\(directory)/model.safetensors") else {
            throw ModelFileError("\(directory)/model.safetensors is missing (only safetensors checkpoints are read)")
        }
        guard let vocabularyText = try FileBytes.read("\(directory)/vocab.txt") else {
            throw ModelFileError("\(directory)/vocab.txt is missing")
        }
        let checkpoint = try SafeTensors(bytes: weightBytes)
        let tokens = Vocabulary.lines(vocabularyText)
        guard tokens.count == configuration.vocabSize else {
            throw ModelFileError("vocab.txt has \(tokens.count) tokens but config.json says vocab_size \(configuration.vocabSize)")
        }

        let pooling = try json("1_Pooling/config.json", required: false)
        let poolingMode = pooling?["pooling_mode_cls_token"]?.bool == true ? "cls"
            : pooling?["pooling_mode_max_tokens"]?.bool == true ? "max" : "mean"
        let modules = try json("modules.json", required: false)?.array ?? []
        let normalize = modules.contains { $0["type"]?.string?.hasSuffix("Normalize") == true }
        let sentenceConfig = try json("sentence_bert_config.json", required: false)
        let maxSequence = min(sentenceConfig?["max_seq_length"]?.integer ?? configuration.maxPositions, configuration.maxPositions)
        let vocabulary = Vocabulary(tokens: tokens)
        let tokenizerConfig = try json("tokenizer_config.json", required: false) ?? .object([:])
        let lowercase = tokenizerConfig["do_lower_case"]?.bool ?? true
        // Rows no text can reach are left out: word-embedding rows of pieces the tokenizer can never produce
        // (their ids go in the metadata, `prunedTokenIds`), and position rows past the longest sequence.
        var pruningConfiguration = TokenizerConfiguration()
        pruningConfiguration.lowercase = lowercase
        pruningConfiguration.handleChineseCharacters = tokenizerConfig["tokenize_chinese_chars"]?.bool ?? true
        pruningConfiguration.specialTokens = ["unk", "cls", "sep", "pad", "mask"].map { tokenizerConfig["\($0)_token"]?.string ?? "[\($0.uppercased())]" }
        let pruned = (try? WordPieceTokenizer(vocabulary: vocabulary, configuration: pruningConfiguration))?.unreachableIDs ?? []
        let prunedSet = Set(pruned.map(Int.init))

        // Tensors, checked against the configuration; checkpoints saved from BertFor* models carry a `bert.` prefix.
        let prefix = checkpoint.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        let h = configuration.hiddenSize, i = configuration.intermediateSize
        var expected: [(String, [Int], Bool)] = [
            ("embeddings.word_embeddings.weight", [configuration.vocabSize, h], true),
            ("embeddings.position_embeddings.weight", [configuration.maxPositions, h], true),
            ("embeddings.token_type_embeddings.weight", [configuration.typeVocabSize, h], false),
            ("embeddings.LayerNorm.weight", [h], false), ("embeddings.LayerNorm.bias", [h], false),
        ]
        for layer in 0..<configuration.layers {
            let p = "encoder.layer.\(layer)."
            for projection in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                expected += [(p + projection + ".weight", [h, h], true), (p + projection + ".bias", [h], false)]
            }
            expected += [
                (p + "attention.output.LayerNorm.weight", [h], false), (p + "attention.output.LayerNorm.bias", [h], false),
                (p + "intermediate.dense.weight", [i, h], true), (p + "intermediate.dense.bias", [i], false),
                (p + "output.dense.weight", [h, i], true), (p + "output.dense.bias", [h], false),
                (p + "output.LayerNorm.weight", [h], false), (p + "output.LayerNorm.bias", [h], false),
            ]
        }
        var report = Report()
        report.sourceBytes = weightBytes.count
        var payloads: [TensorPayload] = []
        for (name, shape, quantized) in expected {
            // Old TensorFlow-converted checkpoints name LayerNorm parameters gamma and beta.
            let candidates = [prefix + name, prefix + name.replacingSuffix(".weight", with: ".gamma"), prefix + name.replacingSuffix(".bias", with: ".beta")]
            guard let source = candidates.first(where: { checkpoint.entries[$0] != nil }), let entry = checkpoint.entries[source] else {
                throw ModelFileError("model.safetensors: tensor \(prefix + name) is missing")
            }
            guard entry.shape == shape else {
                throw ModelFileError("model.safetensors: tensor \(source) has shape \(entry.shape), expected \(shape)")
            }
            var values = try checkpoint.floats(source)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelFileError("model.safetensors: tensor \(source) has a non-finite value at element \(bad)")
            }
            var shape = shape
            if name == "embeddings.word_embeddings.weight" && !prunedSet.isEmpty {
                values = (0..<shape[0]).filter { !prunedSet.contains($0) }.flatMap { values[($0 * h)..<(($0 + 1) * h)] }
                shape[0] -= prunedSet.count
            } else if name == "embeddings.position_embeddings.weight" && maxSequence < shape[0] {
                values = Array(values.prefix(maxSequence * h))
                shape[0] = maxSequence
            }
            if quantized && !float32 {
                let levels = name == "embeddings.word_embeddings.weight" ? wordEmbeddingLevels : 127
                var (data, scales, error) = quantizeRows(values, rowLength: shape[shape.count - 1], levels: levels)
                // Linear weights go in the kernels' packed layout when their shape allows (every BERT size does);
                // embedding tables stay row-major, since they are read a row at a time.
                let packs = name.hasPrefix("encoder.") && PackedLayout.fits(shape)
                if packs { data = PackedLayout.pack(data, rows: shape[0], columns: shape[1]) }
                let type: TensorInfo.DataType = packs ? .int8Packed : .int8
                payloads.append(TensorPayload(name: name, dataType: type, shape: shape, data: data, scales: scales))
                report.tensors.append(.init(name: name, shape: shape, dataType: type, storedBytes: data.count + scales.count * 4, relativeError: error))
            } else {
                var data: [UInt8] = []
                data.reserveCapacity(values.count * 4)
                for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                payloads.append(TensorPayload(name: name, dataType: .float32, shape: shape, data: data))
                report.tensors.append(.init(name: name, shape: shape, dataType: .float32, storedBytes: data.count, relativeError: 0))
            }
        }

        var tokenizer: [String: JSONValue] = [
            "lowercase": .bool(lowercase),
            "cleanText": .bool(true),
            "handleChineseChars": .bool(tokenizerConfig["tokenize_chinese_chars"]?.bool ?? true),
            "maxInputCharsPerWord": .number(100),
            "continuationPrefix": .string("##"),
        ]
        if let strip = tokenizerConfig["strip_accents"]?.bool { tokenizer["stripAccents"] = .bool(strip) }
        var specials: [JSONValue] = []
        for (key, fallback) in [("unk", "[UNK]"), ("cls", "[CLS]"), ("sep", "[SEP]"), ("pad", "[PAD]"), ("mask", "[MASK]")] {
            let token = tokenizerConfig["\(key)_token"]?.string ?? fallback
            guard let id = vocabulary.id(of: Array(token.utf8)) else {
                if key == "mask" { continue }
                throw ModelFileError("vocab.txt has no \(key) token '\(token)'")
            }
            tokenizer["\(key)Token"] = .string(token)
            tokenizer["\(key)Id"] = .number(Double(id))
            specials.append(.string(token))
        }
        tokenizer["specialTokens"] = .array(specials)


        var members: [String: JSONValue] = [
            "architecture": .string("bert"),
            "hiddenSize": .number(Double(h)), "layers": .number(Double(configuration.layers)),
            "heads": .number(Double(configuration.heads)), "intermediateSize": .number(Double(i)),
            "maxPositions": .number(Double(configuration.maxPositions)), "vocabSize": .number(Double(configuration.vocabSize)),
            "typeVocabSize": .number(Double(configuration.typeVocabSize)), "layerNormEps": .number(configuration.layerNormEps),
            "hiddenAct": .string("gelu"), "pooling": .string(poolingMode), "normalize": .bool(normalize),
            "maxSequenceLength": .number(Double(maxSequence)), "modelName": .string(modelName),
            "quantization": .string(float32 ? "none" : "int8-symmetric-per-row"),
            "sourceSHA256": .string(weightBytes.withUnsafeBytes { SHA256.hex($0) }),
            "producer": .string(producer), "tokenizer": .object(tokenizer),
        ]
        if !pruned.isEmpty { members["prunedTokenIds"] = .array(pruned.map { .number(Double($0)) }) }
        if !float32 && wordEmbeddingLevels < 127 { members["wordEmbeddingLevels"] = .number(Double(wordEmbeddingLevels)) }
        for (key, value) in extraMetadata where members[key] == nil { members[key] = value }
        let metadata = JSONValue.object(members)
        let assets = TokenizerAssets.serialize(vocabulary: vocabulary, tables: UnicodeTables.shared)
        let bytes = ModelWriter.encode(metadata: metadata, tokenizerAssets: assets, tensors: payloads)
        report.fileBytes = bytes.count
        return (bytes, report)
    }

    /// The word embeddings' default levels: ±39 (about 6.3 bits) in int8 bytes. The file is no smaller, but a
    /// zip's deflate codes each byte close to its entropy, so a deployment package of MiniLM shrinks by 2.2 MB
    /// (the model deflates to 18.40 MB instead of 20.63); the embeddings lose little, since a text reads only a
    /// few rows and each passes through LayerNorm (MiniLM against fp32: mean cosine 0.99823 instead of 0.99848).
    public static let defaultWordEmbeddingLevels = 39

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

extension String {
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
