import FlintJSON
import FlintModel

#if canImport(Glibc)
import Glibc
#endif

/// One linear layer's weights, [out, in] as HF stores them: packed int8 with one scale per output for the fast
/// path, and for the reference path f32 values (the file's own when it keeps f32, else dequantized once at load).
struct Linear {
    /// Its place among the model's linear layers (0, 1, ...): where the encoder keeps what it derives from it.
    let id: Int
    /// The weight's name in the file.
    let name: String
    let outputs: Int
    let inputs: Int
    /// In the kernels' packed layout (`flint_pack_s8`); nil in an f32 file.
    let weight: UnsafeBufferPointer<Int8>?
    let scales: UnsafeBufferPointer<Float>?
    let bias: UnsafeBufferPointer<Float>
    let floats: [Float]?
    /// Multipliers for the inputs before they are quantized (and before the reference path's products), one per
    /// input; nil when the file does not smooth this layer's inputs (``InputSmoothing``).
    let inputSmoothing: UnsafeBufferPointer<Float>?
}

/// An embedding table, int8 rows with scales (one a row, or one per group of columns) or f32.
struct EmbeddingTable {
    let values: UnsafeBufferPointer<Int8>?
    let scales: UnsafeBufferPointer<Float>?
    let floats: UnsafeBufferPointer<Float>?
    let rows: Int
    /// Scales per row (1: one a row).
    let groups: Int

    /// out[d] = row's value d (`add` false) or out[d] += it, for the `width` values of row `row`: a group's scale
    /// at a time, so the lookup costs no division per value.
    @inline(__always)
    func row(_ row: Int, width: Int, add: Bool, into out: UnsafeMutablePointer<Float>) {
        if let floats {
            for d in 0..<width { out[d] = (add ? out[d] : 0) + floats[row * width + d] }
            return
        }
        let values = values.unsafelyUnwrapped, scales = scales.unsafelyUnwrapped, groupWidth = width / groups
        for group in 0..<groups {
            let scale = scales[row * groups + group]
            for d in (group * groupWidth)..<((group + 1) * groupWidth) {
                out[d] = (add ? out[d] : 0) + Float(values[row * width + d]) * scale
            }
        }
    }

    /// Asks the kernel to read the pages holding these rows (values and scales) now, all together. A model file
    /// leaves the table on disk until a text touches it (``ModelFile`` maps it for random access), and a cold first
    /// pass that touched row after row waited for one 4 KB read at a time (~20 for a short text, ~70 µs each on the
    /// VM measured); asked for together, they are read side by side. Advice only, one system call per row: for a
    /// cold first pass, not for every pass.
    func adviseRows(_ rows: some Sequence<Int>, width: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func advise(_ base: UnsafeRawPointer?, _ bytes: Range<Int>) {
            guard let base else { return }
            let address = Int(bitPattern: base) + bytes.lowerBound
            let first = address / page * page
            _ = madvise(UnsafeMutableRawPointer(bitPattern: first), address + bytes.count - first, MADV_WILLNEED)
        }
        for row in rows {
            if let floats {
                advise(UnsafeRawPointer(floats.baseAddress), (row * width * 4)..<((row + 1) * width * 4))
            } else {
                advise(UnsafeRawPointer(values?.baseAddress), (row * width)..<((row + 1) * width))
                advise(UnsafeRawPointer(scales?.baseAddress), (row * groups * 4)..<((row + 1) * groups * 4))
            }
        }
    }
}

/// A LayerNorm's parameters.
struct LayerNormWeights {
    let gamma: UnsafeBufferPointer<Float>
    let beta: UnsafeBufferPointer<Float>
}

/// One encoder layer, named as in HF's BertLayer.
struct BertLayerWeights {
    let query: Linear
    let key: Linear
    let value: Linear
    /// attention.output.dense
    let attentionOutput: Linear
    /// attention.output.LayerNorm
    let attentionLayerNorm: LayerNormWeights
    /// intermediate.dense
    let intermediate: Linear
    /// output.dense
    let output: Linear
    /// output.LayerNorm
    let outputLayerNorm: LayerNormWeights
}

/// A sequence classifier's head, f32 as the file keeps it: BERT's pooler (dense + tanh) or DistilBERT's
/// pre-classifier (dense + ReLU) on the `[CLS]` vector, then the classifier.
struct ClassifierWeights {
    let kind: ModelTask.HeadKind
    /// pooler.dense / pre_classifier: (hidden, hidden) and (hidden).
    let preWeight: UnsafeBufferPointer<Float>
    let preBias: UnsafeBufferPointer<Float>
    /// classifier: (labels, hidden) and (labels).
    let weight: UnsafeBufferPointer<Float>
    let bias: UnsafeBufferPointer<Float>
    let labels: Int
}

/// Every weight of the model as views into the mapped file, checked for the shapes the configuration implies.
struct BertWeights {
    let wordEmbeddings: EmbeddingTable  // (vocab, hidden)
    let positionEmbeddings: EmbeddingTable  // (positions, hidden)
    /// (types, hidden); nil for a model without token types (DistilBERT).
    let tokenTypeEmbeddings: UnsafeBufferPointer<Float>?
    let embeddingsLayerNorm: LayerNormWeights
    let layers: [BertLayerWeights]
    /// The classification head, when the model has one.
    let classifier: ClassifierWeights?
    let vocabularySize: Int
    /// The word-embedding row of each token id: the file leaves out rows of pieces no text can produce
    /// (`prunedTokenIds`), and those ids map to the unknown token's row. Empty when nothing was pruned.
    let wordRows: [Int32]

    /// The word-embedding row for `id` (an id below `vocabularySize`).
    @inline(__always)
    func wordRow(_ id: Int) -> Int { wordRows.isEmpty ? id : Int(wordRows[id]) }

    /// `int8`: the fast path needs int8 linear weights; otherwise f32 values are prepared for the reference path.
    init(model: ModelFile, configuration: EncoderConfiguration, int8 needsInt8: Bool) throws(ModelFileError) {
        let h = configuration.hiddenSize, i = configuration.intermediateSize
        func shape(_ name: String, _ expected: [Int]?) throws(ModelFileError) -> TensorInfo {
            guard let tensor = model.tensors[name] else { throw ModelFileError("model: tensor \(name) is missing") }
            if let expected, tensor.shape != expected {
                throw ModelFileError("model: tensor \(name) has shape \(tensor.shape), expected \(expected)")
            }
            return tensor
        }
        func floats(_ name: String, _ expected: [Int]) throws(ModelFileError) -> UnsafeBufferPointer<Float> {
            _ = try shape(name, expected)
            guard let values = model.floats(name) else { throw ModelFileError("model: tensor \(name) is not f32") }
            return values
        }
        func table(_ name: String, _ expected: [Int]?) throws(ModelFileError) -> EmbeddingTable {
            let tensor = try shape(name, expected)
            return EmbeddingTable(
                values: model.int8(name), scales: model.scales(name), floats: model.floats(name), rows: tensor.shape[0],
                groups: max(1, tensor.scaleGroups))
        }
        var linears = 0
        func linear(_ prefix: String, outputs: Int, inputs: Int) throws(ModelFileError) -> Linear {
            let name = prefix + ".weight"
            _ = try shape(name, [outputs, inputs])
            let packed = model.packedInt8(name)
            if model.int8(name) != nil {
                throw ModelFileError(
                    "model: tensor \(name) is row-major int8; linear weights are packed (make the file again with flint quantize)"
                )
            }
            if needsInt8 && packed == nil {
                throw ModelFileError(
                    "model: tensor \(name) is f32; the int8 path needs a quantized model (or use the f32 reference path)"
                )
            }
            linears += 1
            let smoothing = InputSmoothing.tensorName(forWeight: name)
            return Linear(
                id: linears - 1, name: name, outputs: outputs, inputs: inputs, weight: packed,
                scales: model.scales(name),
                bias: try floats(prefix + ".bias", [outputs]), floats: needsInt8 ? nil : model.dequantized(name),
                inputSmoothing: model.tensors[smoothing] == nil ? nil : try floats(smoothing, [inputs]))
        }
        func norm(_ prefix: String) throws(ModelFileError) -> LayerNormWeights {
            LayerNormWeights(gamma: try floats(prefix + ".weight", [h]), beta: try floats(prefix + ".bias", [h]))
        }
        let word = try shape("embeddings.word_embeddings.weight", nil)
        guard word.shape.count == 2, word.shape[1] == h else {
            throw ModelFileError("model: word embeddings are not (vocab, \(h))")
        }
        let pruned = (model.metadata["prunedTokenIds"]?.array ?? []).compactMap(\.integer)
        if pruned.isEmpty {
            vocabularySize = word.shape[0]
            wordRows = []
        } else {
            let vocabulary = model.metadata["vocabSize"]?.integer ?? 0
            vocabularySize = vocabulary
            // Ascending and distinct (the quantizer writes them so); one merge pass, no hashing at cold start.
            guard zip(pruned, pruned.dropFirst()).allSatisfy({ $0 < $1 }),
                pruned.allSatisfy({ (0..<vocabulary).contains($0) }),
                word.shape[0] == vocabulary - pruned.count
            else {
                throw ModelFileError(
                    "model: \(word.shape[0]) word-embedding rows do not match vocabSize \(vocabulary) less \(pruned.count) pruned ids (ascending)"
                )
            }
            let unknownID = model.metadata["tokenizer"]?["unkId"]?.integer ?? 0
            var rows = [Int32](repeating: -1, count: vocabulary)
            var next: Int32 = 0, skip = 0
            for id in 0..<vocabulary {
                if skip < pruned.count && pruned[skip] == id {
                    skip += 1
                    continue
                }
                rows[id] = next
                next += 1
            }
            let unknownRow = rows.indices.contains(unknownID) && rows[unknownID] >= 0 ? rows[unknownID] : 0
            wordRows = rows.map { $0 >= 0 ? $0 : unknownRow }
        }
        wordEmbeddings = try table("embeddings.word_embeddings.weight", nil)
        // Files keep position rows up to the longest sequence only (older ones, every position).
        let positions = try shape("embeddings.position_embeddings.weight", nil)
        guard positions.shape.count == 2, positions.shape[1] == h,
            (configuration.maxSequenceLength...configuration.maxPositions).contains(positions.shape[0])
        else {
            throw ModelFileError(
                "model: tensor embeddings.position_embeddings.weight has shape \(positions.shape), expected (\(configuration.maxSequenceLength)…\(configuration.maxPositions), \(h))"
            )
        }
        positionEmbeddings = try table("embeddings.position_embeddings.weight", nil)
        tokenTypeEmbeddings =
            configuration.typeVocabSize > 0
            ? try floats("embeddings.token_type_embeddings.weight", [configuration.typeVocabSize, h]) : nil
        if let head = configuration.task.classifier {
            let pre = head.head == .poolerTanh ? "pooler.dense" : "pre_classifier", labels = head.labels.count
            classifier = ClassifierWeights(
                kind: head.head, preWeight: try floats(pre + ".weight", [h, h]),
                preBias: try floats(pre + ".bias", [h]),
                weight: try floats("classifier.weight", [labels, h]), bias: try floats("classifier.bias", [labels]),
                labels: labels)
        } else {
            classifier = nil
        }
        embeddingsLayerNorm = try norm("embeddings.LayerNorm")
        var layers: [BertLayerWeights] = []
        for index in 0..<configuration.layers {
            let p = "encoder.layer.\(index)."
            layers.append(
                BertLayerWeights(
                    query: try linear(p + "attention.self.query", outputs: h, inputs: h),
                    key: try linear(p + "attention.self.key", outputs: h, inputs: h),
                    value: try linear(p + "attention.self.value", outputs: h, inputs: h),
                    attentionOutput: try linear(p + "attention.output.dense", outputs: h, inputs: h),
                    attentionLayerNorm: try norm(p + "attention.output.LayerNorm"),
                    intermediate: try linear(p + "intermediate.dense", outputs: i, inputs: h),
                    output: try linear(p + "output.dense", outputs: h, inputs: i),
                    outputLayerNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }
}
