import FlintJSON
import Foundation

/// A tiny random BERT checkpoint written to a temporary directory, in the HF / sentence-transformers layout.
struct TinyBert {
    let directory: URL
    let weights: [String: ([Int], [Float])]

    static let vocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "!", ",", "the", "a", "##ing", "play",
    ]

    /// `dtype` is F32, F16 or BF16; `configOverrides` replace config.json keys.
    init(
        dtype: String = "F32", configOverrides: [String: JSONValue] = [:], seed: UInt64 = 42, prefix: String = ""
    ) throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "tiny-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let h = 16, i = 32, layers = 2, positions = 24, vocab = Self.vocabulary.count
        var config: [String: JSONValue] = [
            "architectures": .array([.string("BertModel")]), "model_type": .string("bert"),
            "hidden_size": .number(Double(h)),
            "num_hidden_layers": .number(Double(layers)), "num_attention_heads": .number(4),
            "intermediate_size": .number(Double(i)),
            "max_position_embeddings": .number(Double(positions)), "vocab_size": .number(Double(vocab)),
            "type_vocab_size": .number(2),
            "layer_norm_eps": .number(1e-12), "hidden_act": .string("gelu"),
        ]
        config.merge(configOverrides) { $1 }
        var state = seed
        func random() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
        var weights: [String: ([Int], [Float])] = [:]
        func add(_ name: String, _ shape: [Int]) {
            weights[prefix + name] = (shape, (0..<shape.reduce(1, *)).map { _ in random() * 0.2 })
        }
        add("embeddings.word_embeddings.weight", [vocab, h])
        add("embeddings.position_embeddings.weight", [positions, h])
        add("embeddings.token_type_embeddings.weight", [2, h])
        add("embeddings.LayerNorm.weight", [h])
        add("embeddings.LayerNorm.bias", [h])
        for layer in 0..<layers {
            let p = "encoder.layer.\(layer)."
            for projection in [
                "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            ] {
                add(p + projection + ".weight", [h, h])
                add(p + projection + ".bias", [h])
            }
            add(p + "attention.output.LayerNorm.weight", [h])
            add(p + "attention.output.LayerNorm.bias", [h])
            add(p + "intermediate.dense.weight", [i, h])
            add(p + "intermediate.dense.bias", [i])
            add(p + "output.dense.weight", [h, i])
            add(p + "output.dense.bias", [h])
            add(p + "output.LayerNorm.weight", [h])
            add(p + "output.LayerNorm.bias", [h])
        }
        self.weights = weights
        try Data(JSONValue.object(config).jsonBytes).write(to: directory.appendingPathComponent("config.json"))
        try Data((Self.vocabulary.joined(separator: "\n") + "\n").utf8).write(
            to: directory.appendingPathComponent("vocab.txt"))
        try Data(#"{"do_lower_case": true, "unk_token": "[UNK]"}"#.utf8).write(
            to: directory.appendingPathComponent("tokenizer_config.json"))
        try Data(Self.safetensors(weights, dtype: dtype)).write(
            to: directory.appendingPathComponent("model.safetensors"))
    }

    /// A safetensors file: header length, JSON header, data in name order.
    static func safetensors(_ weights: [String: ([Int], [Float])], dtype: String) -> [UInt8] {
        var header: [String: JSONValue] = ["__metadata__": .object(["format": .string("pt")])]
        var data: [UInt8] = []
        for name in weights.keys.sorted() {
            let (shape, values) = weights[name]!
            let start = data.count
            for value in values {
                switch dtype {
                case "F16": withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { data.append(contentsOf: $0) }
                case "BF16":
                    withUnsafeBytes(of: UInt16(truncatingIfNeeded: value.bitPattern >> 16).littleEndian) {
                        data.append(contentsOf: $0)
                    }
                default: withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
            header[name] = .object([
                "dtype": .string(dtype), "shape": .array(shape.map { .number(Double($0)) }),
                "data_offsets": .array([.number(Double(start)), .number(Double(data.count))]),
            ])
        }
        let json = JSONValue.object(header).jsonBytes
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
