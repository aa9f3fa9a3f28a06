import FlintModel

/// One linear layer's weights: int8 rows with scales (the fast path) and, for the reference path, the same
/// weights dequantized to f32. `weight` is [out, in] as HF stores it.
struct Linear {
    let outputs: Int
    let inputs: Int
    let weight: UnsafeBufferPointer<Int8>
    let scales: UnsafeBufferPointer<Float>
    let bias: UnsafeBufferPointer<Float>
    /// Dequantized weight, only for the f32 reference path.
    let dequantized: [Float]?
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

/// Every weight of the model as views into the mapped file, checked for the shapes the configuration implies.
struct BertWeights {
    let wordEmbeddings: UnsafeBufferPointer<Int8>      // (vocab, hidden)
    let wordScales: UnsafeBufferPointer<Float>         // (vocab)
    let positionEmbeddings: UnsafeBufferPointer<Int8>  // (positions, hidden)
    let positionScales: UnsafeBufferPointer<Float>     // (positions)
    let tokenTypeEmbeddings: UnsafeBufferPointer<Float> // (types, hidden)
    let embeddingsLayerNorm: LayerNormWeights
    let layers: [BertLayerWeights]
    let vocabularySize: Int

    init(model: ModelFile, configuration: EncoderConfiguration, dequantize: Bool) throws(ModelFileError) {
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
        func int8(_ name: String, _ expected: [Int]?) throws(ModelFileError) -> (UnsafeBufferPointer<Int8>, UnsafeBufferPointer<Float>) {
            _ = try shape(name, expected)
            guard let values = model.int8(name), let scales = model.scales(name) else { throw ModelFileError("model: tensor \(name) is not int8") }
            return (values, scales)
        }
        func linear(_ prefix: String, outputs: Int, inputs: Int) throws(ModelFileError) -> Linear {
            let (weight, scales) = try int8(prefix + ".weight", [outputs, inputs])
            return Linear(outputs: outputs, inputs: inputs, weight: weight, scales: scales,
                          bias: try floats(prefix + ".bias", [outputs]),
                          dequantized: dequantize ? model.dequantized(prefix + ".weight") : nil)
        }
        func norm(_ prefix: String) throws(ModelFileError) -> LayerNormWeights {
            LayerNormWeights(gamma: try floats(prefix + ".weight", [h]), beta: try floats(prefix + ".bias", [h]))
        }
        let word = try shape("embeddings.word_embeddings.weight", nil)
        guard word.shape.count == 2, word.shape[1] == h else { throw ModelFileError("model: word embeddings are not (vocab, \(h))") }
        vocabularySize = word.shape[0]
        (wordEmbeddings, wordScales) = try int8("embeddings.word_embeddings.weight", nil)
        (positionEmbeddings, positionScales) = try int8("embeddings.position_embeddings.weight", [configuration.maxPositions, h])
        tokenTypeEmbeddings = try floats("embeddings.token_type_embeddings.weight", [configuration.typeVocabSize, h])
        embeddingsLayerNorm = try norm("embeddings.LayerNorm")
        var layers: [BertLayerWeights] = []
        for index in 0..<configuration.layers {
            let p = "encoder.layer.\(index)."
            layers.append(BertLayerWeights(
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
