import Embedder
import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing
import WordPiece

/// Every encoder task against the library people use today, on the random-weight checkpoints of
/// `Tests/TaskFixtures`: sentence-transformers `CrossEncoder.predict`, the `transformers` text-classification
/// pipeline, and `SentenceTransformer.encode(prompt_name:)`, for BERT and DistilBERT, one and several labels.
/// Within 1e-3 through the f32 reference path, 0.02 through int8.
@Suite struct TaskHeadTests {
    static let references = try! JSONValue(parsing: TaskFixtures.referenceBytes())

    /// The checkpoint quantized (int8) or kept in f32, with its encoder and tokenizer.
    static func load(_ name: String, float32: Bool) throws -> (ModelFile, Encoder, WordPieceTokenizer) {
        let bytes = try Quantizer.quantize(
            directory: TaskFixtures.checkpoint(name), modelName: name, float32: float32
        ).bytes
        let model = try ModelFile(bytes: bytes)
        let encoder = try Encoder(model: model, precision: float32 ? .float32 : .int8)
        return (model, encoder, try model.tokenizer())
    }

    @Test(arguments: [true, false])
    func crossEncoderScoresEqualCrossEncoderPredict(float32: Bool) throws {
        let (model, encoder, tokenizer) = try Self.load("rerank-bert", float32: float32)
        let head = try #require(encoder.configuration.task.classifier)
        #expect(head.labels.count == 1 && head.crossEncoderActivation == .sigmoid && head.head == .poolerTanh)
        #expect(model.metadata["maxSequenceLength"]?.integer == 40)
        let documents = Self.references["documents"]!.array!.map { $0.string! }
        let queries = [Self.references["query"]!.string!, Self.references["long_query"]!.string!]
        let pairs = queries.flatMap { query in documents.map { tokenizer.encode(query, $0) } }
        #expect(pairs.contains { $0.ids.count == 40 }, "some pairs are truncated")
        let logits = encoder.classify(batch: pairs.map(\.ids), typeIDs: pairs.map(\.typeIDs))
        let scores = logits.map { head.crossEncoderActivation($0)[0] }
        let expected = Self.references["rerank"]!.array!.map { Float($0.number!) }
        let tolerance: Float = float32 ? 1e-3 : 0.02
        for (index, (score, reference)) in zip(scores, expected).enumerated() {
            #expect(abs(score - reference) <= tolerance, "pair \(index): \(score) against \(reference)")
        }
        for i in expected.indices {
            for j in expected.indices where expected[i] - expected[j] > tolerance {
                #expect(scores[i] > scores[j], "pairs \(i) and \(j) are ordered as CrossEncoder orders them")
            }
        }
    }

    @Test(arguments: ["classify-bert", "classify-distilbert", "regress-distilbert"], [true, false])
    func classifierScoresEqualThePipeline(name: String, float32: Bool) throws {
        let (_, encoder, tokenizer) = try Self.load(name, float32: float32)
        let head = try #require(encoder.configuration.task.classifier)
        let texts = Self.references["texts"]!.array!.map { $0.string! }
        let logits = encoder.classify(batch: texts.map { tokenizer.encode($0).ids })
        let tolerance: Float = float32 ? 1e-3 : 0.02
        for (index, expected) in Self.references[name]!.array!.enumerated() {
            let scores = head.pipelineFunction(logits[index])
            for (label, score) in zip(head.labels, scores) {
                let reference = Float(try #require(expected[label]?.number))
                #expect(abs(score - reference) <= tolerance, "\(name) text \(index) \(label): \(score) vs \(reference)")
            }
        }
    }

    @Test func classifierHeadsAreDescribed() throws {
        let bert = try Self.load("classify-bert", float32: false).1.configuration.task.classifier
        #expect(bert?.labels == ["negative", "neutral", "positive"] && bert?.pipelineFunction == .softmax)
        let distil = try Self.load("classify-distilbert", float32: false).1.configuration
        #expect(distil.typeVocabSize == 0 && distil.task.classifier?.head == .preClassifierReLU)
        #expect(
            distil.task.classifier?.problemType == .multiLabel && distil.task.classifier?.pipelineFunction == .sigmoid)
        let regression = try Self.load("regress-distilbert", float32: false).1.configuration.task.classifier
        #expect(regression?.pipelineFunction == .identity && regression?.labels == ["score"])
    }

    @Test(arguments: ["embed-distilbert-prompts", "embed-bert-prompts"], [true, false])
    func promptedEmbeddingsEqualSentenceTransformers(name: String, float32: Bool) throws {
        let (_, encoder, tokenizer) = try Self.load(name, float32: float32)
        let task = encoder.configuration.task
        #expect(task.prompts["query"] != nil && task.prompts["document"] != nil)
        let texts = Self.references["texts"]!.array!.map { $0.string! }
        for (promptName, vectors) in Self.references["embed"]![name]!.object! {
            let prompt =
                promptName == "None" ? task.defaultPromptName.flatMap { task.prompts[$0] } : task.prompts[promptName]
            let embedded = encoder.embed(batch: texts.map { tokenizer.encode((prompt ?? "") + $0).ids })
            for (index, expected) in vectors.array!.enumerated() {
                let reference = expected.array!.map { Float($0.number!) }
                let cosine = Self.cosine(embedded[index], reference)
                let norms = Self.norm(embedded[index]) / Self.norm(reference)
                #expect(cosine >= (float32 ? 0.9999 : 0.995), "\(name) \(promptName) text \(index): cosine \(cosine)")
                #expect(abs(norms - 1) <= (float32 ? 1e-3 : 0.02), "\(name) \(promptName) text \(index): norm ratio")
            }
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y) }
        return dot / (norm(a) * norm(b))
    }

    static func norm(_ a: [Float]) -> Double { a.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
}
