import CKernels
import FlintModel

#if canImport(Glibc)
import Glibc
#endif

/// The BERT encoder forward pass over a mapped model file (BERT or DistilBERT, stored under BERT's names): token ids
/// in, one pooled (and, if the model says so, L2-normalised) embedding out, or a classifier's raw outputs (logits)
/// when the model has a classification head.
///
/// `.int8` runs every linear layer on the int8 kernels, its activations quantized as they come in groups of
/// `activationGroup` values with a scale each; `.float32` is the reference: the same steps with dequantized
/// weights and plain loops, which the fast path is tested against. Batches are packed, not padded: the sequences' tokens are stacked into one matrix for every linear
/// layer (so each weight row is read once per batch), and attention runs per sequence. Scratch buffers grow to the
/// largest pack seen (at most ``packTokens`` tokens) and are then reused, so `embed` allocates only its results.
/// Not thread-safe: callers that share one serialise on a lock (the kernels already spread one pass over every
/// core, so a second encoder would only cost memory).
///
/// ```swift
/// let encoder = try Encoder(model: ModelFile.open("minilm.flint"))
/// let vector = encoder.embed(tokenizer.encode("Hello").ids)
/// ```
public final class Encoder {
    /// Which arithmetic the linear layers use.
    public enum Precision: Sendable { case int8, float32 }

    /// The model's shape, pooling and normalisation, from the file's metadata.
    public let configuration: EncoderConfiguration
    /// Which arithmetic this encoder uses.
    public let precision: Precision
    /// Activations are quantized in groups of this many values along each token's vector, each with its own
    /// scale (per-token scales lose outliers: MiniLM's mean cosine to fp32 goes from 0.9950 with one scale per
    /// token to 0.9985 with groups of 64). 0 means one per token (``ComputeSettings/activationGroup``).
    public let activationGroup: Int
    /// Sees the hidden states after the embeddings (0) and after each layer (1…), tokens × hidden: for
    /// layer-by-layer comparisons in tests. Nil (and free) otherwise.
    public var layerObserver: ((Int, [Float]) -> Void)? = nil
    /// Sees each linear layer's input before the layer runs: the weight's name in the file
    /// (`encoder.layer.0.attention.self.query.weight`), then tokens × inputs values as the layer reads them (f32,
    /// before quantization). For calibration (``InputStatistics``); nil (and free) otherwise.
    public var linearInputObserver: ((String, UnsafeBufferPointer<Float>, Int) -> Void)? = nil
    /// The most tokens one packed forward pass holds; a larger batch runs as several packs. It bounds scratch
    /// memory (about 17 KB a token for MiniLM) while keeping weight reuse high.
    public let packTokens: Int
    private let model: ModelFile
    private let weights: BertWeights

    // Scratch for `capacity` tokens (grown by `reserve`).
    private var capacity = 0
    private var hidden: [Float]
    private var query: [Float]
    private var key: [Float]
    private var value: [Float]
    private var context: [Float]
    private var projected: [Float]
    private var intermediate: [Float]
    private var attentionScratch: [Float]
    private var quantized: [Int8]
    private var activationScales: [Float]
    /// Each linear layer's weight sums per activation group (`flint_weight_group_sums`), by ``Linear/id``, made on
    /// the layer's first use when the kernel path reads them (AVX-512 VNNI; nil elsewhere): weights only, so once.
    private var groupSums: [[Int32]?]
    /// Whether a pass has asked for its word-embedding rows ahead (``EmbeddingTable/adviseRows(_:width:)``): the
    /// first one only, when the table is still on disk.
    private var wordRowsAdvised = false

    /// Prepares an encoder; checks every tensor's shape against the metadata.
    public init(model: ModelFile, precision: Precision = .int8, activationGroup: Int = 64) throws(ModelFileError) {
        let configuration = try EncoderConfiguration(metadata: model.metadata)
        self.configuration = configuration
        self.precision = precision
        self.model = model
        self.weights = try BertWeights(model: model, configuration: configuration, int8: precision == .int8)
        self.activationGroup = activationGroup
        self.packTokens = max(configuration.maxSequenceLength, 512)
        let h = configuration.hiddenSize, tokens = configuration.maxSequenceLength
        hidden = []
        query = []
        key = []
        value = []
        context = []
        projected = []
        intermediate = []
        quantized = []
        activationScales = []
        groupSums = Array(repeating: nil, count: configuration.layers * 6)
        // flint_attention pads each sequence's keys to a multiple of 16.
        attentionScratch = [Float](
            repeating: 0, count: Int(flint_thread_count()) * (h / configuration.heads + 4) * ((tokens + 15) / 16 * 16))
        reserve(min(tokens, 32))
    }

    /// Grows the scratch buffers to hold `tokens` tokens.
    private func reserve(_ tokens: Int) {
        guard tokens > capacity else { return }
        // Grow by doubling, from a small start: pages of scratch are zeroed by the kernel when first touched, and
        // sizing everything for the longest sequence up front cost milliseconds of every cold start.
        let rows = min(max(tokens, capacity * 2), max(tokens, packTokens))
        let h = configuration.hiddenSize, i = configuration.intermediateSize, widest = max(h, i)
        hidden = [Float](repeating: 0, count: rows * h)
        query = hidden
        key = hidden
        value = hidden
        context = hidden
        projected = hidden
        intermediate = [Float](repeating: 0, count: rows * i)
        quantized = [Int8](repeating: 0, count: rows * widest)
        activationScales = [Float](repeating: 0, count: rows * max(h / groupSize(h), i / groupSize(i)))
        capacity = rows
    }

    /// The embedding of one token sequence (ids from the model's tokenizer, `[CLS]` … `[SEP]`). Longer inputs than
    /// `maxSequenceLength` are cut; ids outside the vocabulary are a precondition failure.
    public func embed(_ ids: [Int32], typeIDs: [Int32]? = nil) -> [Float] {
        embed(batch: [ids], typeIDs: typeIDs.map { [$0] })[0]
    }

    /// The embeddings of several sequences, in order, from packed forward passes: the same vectors as one `embed`
    /// call each (up to float summation order), at a fraction of the cost for short texts. An empty sequence
    /// gives a zero vector.
    ///
    /// `normalize` overrides the model's own L2 normalisation setting when not nil.
    public func embed(batch sequences: [[Int32]], typeIDs: [[Int32]]? = nil, normalize: Bool? = nil) -> [[Float]] {
        let normalize = normalize ?? configuration.normalize
        return run(sequences, typeIDs: typeIDs, empty: configuration.hiddenSize) { pool($0, normalize: normalize) }
    }

    /// The classification head's raw outputs (logits, one per label) for each sequence, in order, from packed
    /// forward passes: the head reads each sequence's first (`[CLS]`) vector. No score function is applied (the
    /// caller picks the one its task needs: ``ModelTask/Classifier``). A model without a head is a precondition
    /// failure; an empty sequence gives zeros.
    public func classify(batch sequences: [[Int32]], typeIDs: [[Int32]]? = nil) -> [[Float]] {
        guard let head = weights.classifier else { preconditionFailure("the model has no classification head") }
        return run(sequences, typeIDs: typeIDs, empty: head.labels) { classifierOutputs(head, row: $0.lowerBound) }
    }

    /// Packs sequences into forward passes of at most ``packTokens`` tokens and reads each sequence's result with
    /// `output` (given its rows) right after its pass; an empty sequence gives `empty` zeros.
    private func run(
        _ sequences: [[Int32]], typeIDs: [[Int32]]?, empty: Int, output: (Range<Int>) -> [Float]
    ) -> [[Float]] {
        var results = [[Float]](repeating: [], count: sequences.count)
        var pack: [Int] = [], packed = 0
        func flush() {
            guard !pack.isEmpty else { return }
            let segments = forward(pack.map { sequences[$0] }, typeIDs: typeIDs.map { types in pack.map { types[$0] } })
            for (slot, index) in pack.enumerated() { results[index] = output(segments[slot]) }
            pack.removeAll(keepingCapacity: true)
            packed = 0
        }
        for (index, ids) in sequences.enumerated() {
            let count = min(ids.count, configuration.maxSequenceLength)
            if count == 0 {
                results[index] = [Float](repeating: 0, count: empty)
                continue
            }
            if packed + count > packTokens { flush() }
            pack.append(index)
            packed += count
        }
        flush()
        return results
    }

    /// One packed forward pass over sequences whose cut lengths sum to at most `packTokens`; the last hidden states
    /// are left in `hidden`, and each sequence's rows are returned.
    private func forward(_ sequences: [[Int32]], typeIDs: [[Int32]]?) -> [Range<Int>] {
        var segments: [Range<Int>] = []
        var start = 0
        for ids in sequences {
            let count = min(ids.count, configuration.maxSequenceLength)
            segments.append(start..<(start + count))
            start += count
        }
        let rows = start
        flint_pool_wake()
        reserve(rows)
        embeddings(sequences, typeIDs: typeIDs, segments: segments)
        observe(0, rows: rows)
        for (index, layer) in weights.layers.enumerated() {
            encoderLayer(layer, segments: segments, rows: rows)
            observe(index + 1, rows: rows)
        }
        return segments
    }

    private func observe(_ layer: Int, rows: Int) {
        layerObserver?(layer, Array(hidden[0..<(rows * configuration.hiddenSize)]))
    }

    // MARK: - The forward pass, step by step as in HF's BertModel

    /// BertEmbeddings: word + position + token type (when the model has them), then LayerNorm. Positions restart at
    /// each sequence.
    private func embeddings(_ sequences: [[Int32]], typeIDs: [[Int32]]?, segments: [Range<Int>]) {
        let h = configuration.hiddenSize
        if !wordRowsAdvised {
            wordRowsAdvised = true
            var rows: [Int] = []
            for (ids, segment) in zip(sequences, segments) {
                for id in ids.prefix(segment.count) where id >= 0 && Int(id) < weights.vocabularySize {
                    rows.append(weights.wordRow(Int(id)))
                }
            }
            weights.wordEmbeddings.adviseRows(rows, width: h)
        }
        for (sequence, segment) in segments.enumerated() {
            let ids = sequences[sequence]
            for position in 0..<segment.count {
                let id = Int(ids[position]), row = segment.lowerBound + position
                precondition(id >= 0 && id < weights.vocabularySize, "token id \(id) is outside the vocabulary")
                let wordRow = weights.wordRow(id)
                let type = min(Int(typeIDs.map { $0[sequence][position] } ?? 0), configuration.typeVocabSize - 1)
                hidden.withUnsafeMutableBufferPointer { all in
                    let out = all.baseAddress! + row * h
                    weights.wordEmbeddings.row(wordRow, width: h, add: false, into: out)
                    weights.positionEmbeddings.row(position, width: h, add: true, into: out)
                    if let types = weights.tokenTypeEmbeddings {
                        for d in 0..<h { out[d] += types[max(type, 0) * h + d] }
                    }
                }
            }
        }
        layerNorm(&hidden, weights.embeddingsLayerNorm, count: segments.last.map(\.upperBound) ?? 0)
    }

    /// BertLayer: self-attention, output dense + residual + LayerNorm, intermediate (GELU), output dense +
    /// residual + LayerNorm.
    private func encoderLayer(_ layer: BertLayerWeights, segments: [Range<Int>], rows count: Int) {
        let h = configuration.hiddenSize
        // BertSelfAttention: the three projections share one quantization of the input.
        quantizeActivations(hidden, rows: count, columns: h, smoothing: layer.query.inputSmoothing)
        linear(layer.query, input: hidden, rows: count, into: &query, reuseQuantized: true)
        linear(layer.key, input: hidden, rows: count, into: &key, reuseQuantized: true)
        linear(layer.value, input: hidden, rows: count, into: &value, reuseQuantized: true)
        for segment in segments { attention(segment) }
        // BertSelfOutput
        linear(layer.attentionOutput, input: context, rows: count, into: &projected, reuseQuantized: false)
        addResidual(count * h)
        layerNorm(&hidden, layer.attentionLayerNorm, count: count)
        // BertIntermediate
        linear(layer.intermediate, input: hidden, rows: count, into: &intermediate, reuseQuantized: false)
        intermediate.withUnsafeMutableBufferPointer {
            flint_gelu_erf($0.baseAddress, Int32(count * configuration.intermediateSize))
        }
        // BertOutput
        linear(layer.output, input: intermediate, rows: count, into: &projected, reuseQuantized: false)
        addResidual(count * h)
        layerNorm(&hidden, layer.outputLayerNorm, count: count)
    }

    /// Multi-head scaled dot-product attention within one sequence of the pack (its rows `segment`).
    private func attention(_ segment: Range<Int>) {
        let offset = segment.lowerBound * configuration.hiddenSize
        query.withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
                value.withUnsafeBufferPointer { v in
                    context.withUnsafeMutableBufferPointer { c in
                        attentionScratch.withUnsafeMutableBufferPointer { t in
                            flint_attention(
                                Int32(segment.count), Int32(configuration.hiddenSize), Int32(configuration.heads),
                                q.baseAddress! + offset, k.baseAddress! + offset, v.baseAddress! + offset,
                                c.baseAddress! + offset, t.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// BertPooler + classifier (or DistilBERT's pre_classifier + ReLU + classifier) on the `[CLS]` vector at `row`,
    /// in f32: a few thousand multiply-adds a sequence.
    private func classifierOutputs(_ head: ClassifierWeights, row: Int) -> [Float] {
        let h = configuration.hiddenSize
        var pooled = [Float](repeating: 0, count: h)
        for j in 0..<h {
            var sum = head.preBias[j]
            for k in 0..<h { sum += head.preWeight[j * h + k] * hidden[row * h + k] }
            pooled[j] = head.kind == .poolerTanh ? tanhf(sum) : max(sum, 0)
        }
        return (0..<head.labels).map { label in
            var sum = head.bias[label]
            for k in 0..<h { sum += head.weight[label * h + k] * pooled[k] }
            return sum
        }
    }

    /// Pooling of one sequence's rows (mean over tokens, CLS, max, or the sum over √tokens), then optional L2
    /// normalisation.
    private func pool(_ rows: Range<Int>, normalize: Bool) -> [Float] {
        let h = configuration.hiddenSize
        var pooled = [Float](repeating: 0, count: h)
        switch configuration.pooling {
        case .cls:
            for d in 0..<h { pooled[d] = hidden[rows.lowerBound * h + d] }
        case .max:
            for d in 0..<h { pooled[d] = rows.map { hidden[$0 * h + d] }.max() ?? 0 }
        case .mean, .meanSqrtLength:
            for token in rows { for d in 0..<h { pooled[d] += hidden[token * h + d] } }
            let divisor = configuration.pooling == .mean ? Float(rows.count) : Float(rows.count).squareRoot()
            for d in 0..<h { pooled[d] /= divisor }
        }
        if normalize {
            let norm = max(pooled.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for d in 0..<h { pooled[d] /= norm }
        }
        return pooled
    }

    // MARK: - Arithmetic

    /// hidden += projected, over the first `length` values.
    private func addResidual(_ length: Int) {
        hidden.withUnsafeMutableBufferPointer { x in
            projected.withUnsafeBufferPointer { y in for index in 0..<length { x[index] += y[index] } }
        }
    }

    private func layerNorm(_ x: inout [Float], _ norm: LayerNormWeights, count: Int) {
        x.withUnsafeMutableBufferPointer {
            flint_layer_norm(
                Int32(count), Int32(configuration.hiddenSize), $0.baseAddress, norm.gamma.baseAddress,
                norm.beta.baseAddress, configuration.layerNormEps)
        }
    }

    private func groupSize(_ columns: Int) -> Int {
        activationGroup > 0 && activationGroup % 4 == 0 && columns % activationGroup == 0 ? activationGroup : columns
    }

    private func quantizeActivations(
        _ input: [Float], rows: Int, columns: Int, smoothing: UnsafeBufferPointer<Float>?
    ) {
        guard precision == .int8 else { return }
        input.withUnsafeBufferPointer { x in
            quantized.withUnsafeMutableBufferPointer { q in
                activationScales.withUnsafeMutableBufferPointer { s in
                    if let smoothing {
                        flint_quantize_groups_smoothed(
                            Int32(rows), Int32(columns), Int32(groupSize(columns)), x.baseAddress,
                            smoothing.baseAddress, q.baseAddress, s.baseAddress)
                    } else {
                        flint_quantize_groups(
                            Int32(rows), Int32(columns), Int32(groupSize(columns)), x.baseAddress, q.baseAddress,
                            s.baseAddress)
                    }
                }
            }
        }
    }

    /// out = input · weightᵀ + bias, for `rows` tokens.
    private func linear(_ layer: Linear, input: [Float], rows: Int, into out: inout [Float], reuseQuantized: Bool) {
        if let linearInputObserver {
            input.withUnsafeBufferPointer {
                linearInputObserver(layer.name, UnsafeBufferPointer(rebasing: $0[0..<(rows * layer.inputs)]), rows)
            }
        }
        switch precision {
        case .int8:
            if !reuseQuantized {
                quantizeActivations(input, rows: rows, columns: layer.inputs, smoothing: layer.inputSmoothing)
            }
            let group = groupSize(layer.inputs)
            if groupSums[layer.id] == nil && flint_kernel_uses_group_sums() != 0 {
                var sums = [Int32](repeating: 0, count: layer.outputs * (layer.inputs / group))
                flint_weight_group_sums(
                    Int32(layer.outputs), Int32(layer.inputs), Int32(group), layer.weight!.baseAddress, &sums)
                groupSums[layer.id] = sums
            }
            quantized.withUnsafeBufferPointer { q in
                activationScales.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in
                        flint_linear_s8_packed(
                            Int32(rows), Int32(layer.outputs), Int32(layer.inputs), Int32(group), q.baseAddress,
                            s.baseAddress, layer.weight!.baseAddress, layer.scales!.baseAddress, layer.bias.baseAddress,
                            groupSums[layer.id], o.baseAddress)
                    }
                }
            }
        case .float32:
            let weight = layer.floats!
            // Weights of a smoothed layer carry s_j in column j; the inputs take 1/s_j as in the int8 path.
            let input =
                layer.inputSmoothing.map { m in (0..<(rows * layer.inputs)).map { input[$0] * m[$0 % layer.inputs] } }
                ?? input
            input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    out.withUnsafeMutableBufferPointer { o in
                        for row in 0..<rows {
                            for j in 0..<layer.outputs {
                                var sum: Float = 0
                                for k in 0..<layer.inputs { sum += x[row * layer.inputs + k] * w[j * layer.inputs + k] }
                                o[row * layer.outputs + j] = sum + layer.bias[j]
                            }
                        }
                    }
                }
            }
        }
    }
}
