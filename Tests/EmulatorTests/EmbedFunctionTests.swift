import Emulator
import FlintJSON
import FlintModel
import Foundation
import Testing
import WordPiece

/// functions/embed end to end: the real bootstrap under the emulator, every event shape with good and bad input,
/// EMF metrics read back from the invocation log. A tiny random BERT (EmbedderTests' fixture: 32 wide, 64 tokens)
/// keeps it fast; the real MiniLM checks the answers themselves when installed.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct EmbedFunctionTests {
        static let tinyBert = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../EmbedderTests/Fixtures/tiny-bert").standardizedFileURL.path

        /// A task root holding the tiny model and a function.json with small limits.
        static func taskRoot(_ extra: [String: JSONValue] = [:]) throws -> String {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("flint-embed-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try ModelWriter.write(
                try Quantizer.quantize(directory: tinyBert, modelName: "tiny").bytes, to: root + "/model.flint")
            var config: [String: JSONValue] = [
                "handler": .string("embed"),
                "limits": .object([
                    "maxInputs": .number(4), "maxCharactersPerInput": .number(300), "maxTotalTokens": .number(120),
                    "maxRequestBytes": .number(2000),
                ]),
            ]
            config.merge(extra) { $1 }
            try Data(JSONValue.object(config).jsonBytes).write(to: URL(fileURLWithPath: root + "/function.json"))
            return root
        }

        static func start(_ extra: [String: JSONValue] = [:]) async throws -> EmulatorHarness {
            try await EmulatorHarness([
                EmulatorHarness.function("embed", timeout: .seconds(20), taskRoot: try taskRoot(extra))
            ])
        }

        static func vectors(_ reply: EmulatorHarness.Reply) -> [[Double]] {
            (reply.json?["data"]?.array ?? []).map { ($0["embedding"]?.array ?? []).compactMap(\.number) }
        }

        static func norm(_ vector: [Double]) -> Double { vector.reduce(0) { $0 + $1 * $1 }.squareRoot() }

        /// The EMF lines of an invocation's log (X-Amz-Log-Type: Tail).
        static func metricLines(_ reply: EmulatorHarness.Reply) throws -> [JSONValue] {
            let log = String(
                decoding: Data(base64Encoded: try #require(reply.header("X-Amz-Log-Result"))) ?? Data(), as: UTF8.self)
            return log.split(separator: "\n").compactMap { line in
                guard let start = line.firstIndex(of: "{") else { return nil }
                guard let document = try? JSONValue(parsing: String(line[start...])), document["_aws"] != nil else {
                    return nil
                }
                return document
            }
        }

        @Test func directRequestsInOpenAIShape() async throws {
            let emulator = try await Self.start()
            let one = try await emulator.invoke("embed", #"{"input":"hello world"}"#)
            #expect(one.status == 200 && one.header("X-Amz-Function-Error") == nil, "\(one.text)")
            let body = try #require(one.json)
            #expect(body["object"] == .string("list") && body["model"] == .string("tiny"))
            let vector = try #require(Self.vectors(one).first)
            #expect(vector.count == 32)
            #expect(Self.norm(vector) > 0)
            // [CLS] hello world [SEP], as the model's own tokenizer counts them.
            let tokenizer = try ModelFile(
                bytes: try Quantizer.quantize(directory: Self.tinyBert, modelName: "tiny").bytes
            ).tokenizer()
            #expect(body["usage"]?["prompt_tokens"]?.integer == tokenizer.encode("hello world").ids.count)
            #expect(body["data"]?.array?.first?["index"] == .number(0))

            let three = try await emulator.invoke(
                "embed", #"{"input":["hello world","a b c","hello world"],"model":"tiny"}"#)
            let vectors = Self.vectors(three)
            #expect(vectors.count == 3 && three.json?["data"]?.array?.map { $0["index"]?.integer } == [0, 1, 2])
            #expect(
                zip(vectors[0], vector).allSatisfy { abs($0 - $1) < 1e-6 }, "a batch gives each text its own vector")
            #expect(zip(vectors[0], vectors[2]).allSatisfy { $0 == $1 })

            // base64: little-endian float32 of the same vector.
            let encoded = try await emulator.invoke(
                "embed", #"{"input":"hello world","encoding_format":"base64","dimensions":32}"#)
            let text = try #require(encoded.json?["data"]?.array?.first?["embedding"]?.string)
            let floats = Data(base64Encoded: text)!.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(floats.count == 32 && zip(floats, vector).allSatisfy { abs(Double($0) - $1) < 1e-6 })

            // The tiny model does not normalise (no sentence-transformers Normalize module); `normalize` overrides it.
            let unit = Self.vectors(try await emulator.invoke("embed", #"{"input":"hello world","normalize":true}"#))
            #expect(abs(Self.norm(try #require(unit.first)) - 1) < 1e-5)
            #expect(abs(Self.norm(vector) - 1) > 1e-3)
            try await emulator.stop()
        }

        @Test(arguments: [
            (#"{"input":""}"#, "input is empty"),
            (#"{"input":[]}"#, "empty array"),
            (#"{"input":5}"#, "must be a string or an array of strings"),
            (#"{"input":["a",[1,2]]}"#, "token arrays are not accepted"),
            (#"{"inputs":"a"}"#, "unknown field \"inputs\""),
            (#"{"text":"a"}"#, "unknown field \"text\""),
            (#"{"input":"a","model":"gpt"}"#, "serves 'tiny'"),
            (#"{"input":"a","dimensions":16}"#, "\"dimensions\" must be 32"),
            (#"{"input":"a","encoding_format":"int8"}"#, "encoding_format"),
            (#"{"input":"a","truncate":"yes"}"#, "\"truncate\" must be true or false"),
            (#"{"input":["a","b","c","d","e"]}"#, "at most 4 per request"),
            ("{\"input\":\"" + String(repeating: "a ", count: 200) + "\"}", "at most 300"),
            ("{\"input\":\"" + String(repeating: "a ", count: 100) + "\"}", "more than 64 tokens"),
            (
                "{\"input\":[\""
                    + Array(repeating: String(repeating: "a ", count: 40), count: 4).joined(separator: "\",\"")
                    + "\"]}", "more than 120 tokens in all"
            ),
            (#"{"input": "a""#, "not valid JSON"),
            ("[1,2]", "must be a JSON object"),
        ])
        func badDirectRequestsAreInvalidInput(event: String, message: String) async throws {
            let emulator = try await Self.start()
            let reply = try await emulator.invoke("embed", event)
            #expect(
                reply.status == 200 && reply.header("X-Amz-Function-Error") == "Unhandled",
                "\(reply.status) \(reply.headers) \(reply.text)")
            #expect(reply.json?["errorType"] == .string("Function.InvalidInput"), "\(reply.text)")
            let text = reply.json?["errorMessage"]?.string ?? ""
            #expect(text.contains(message), "\(text)")
            // The environment survives: the next request is served.
            #expect(Self.vectors(try await emulator.invoke("embed", #"{"input":"a"}"#)).count == 1)
            try await emulator.stop()
        }

        @Test func truncateCutsOnlyWhenAsked() async throws {
            let emulator = try await Self.start()
            let long = String(repeating: "a ", count: 100)  // 102 tokens, under the 300-character limit
            let reply = try await emulator.invoke(
                "embed", "{\"input\":\"\(long)\",\"truncate\":true}", headers: ["X-Amz-Log-Type": "Tail"])
            #expect(Self.vectors(reply).first?.count == 32, "\(reply.text)")
            #expect(reply.json?["usage"]?["prompt_tokens"] == .number(64))
            let metrics = try #require(try Self.metricLines(reply).last)
            #expect(metrics["Truncations"] == .number(1) && metrics["Tokens"] == .number(64))
            try await emulator.stop()
        }

        @Test func payloadOverSixMegabytesIsRefusedByTheService() async throws {
            let emulator = try await Self.start()
            let reply = try await emulator.invoke(
                "embed", "{\"input\":\"" + String(repeating: "a", count: 6 * 1024 * 1024 + 10) + "\"}")
            #expect(reply.status == 413 && reply.header("X-Amzn-ErrorType") == "RequestEntityTooLargeException")
            #expect(Self.vectors(try await emulator.invoke("embed", #"{"input":"a"}"#)).count == 1)
            try await emulator.stop()
        }

        static func httpEvent(
            method: String = "POST", path: String = "/v1/embeddings", body: String, base64: Bool = false
        ) -> String {
            let event: JSONValue = .object([
                "version": .string("2.0"), "routeKey": .string("$default"), "rawPath": .string(path),
                "rawQueryString": .string(""),
                "headers": .object(["content-type": .string("application/json")]),
                "requestContext": .object([
                    "http": .object(["method": .string(method), "path": .string(path)]),
                    "requestId": .string("abc"), "stage": .string("$default"),
                ]),
                "body": .string(base64 ? Data(body.utf8).base64EncodedString() : body),
                "isBase64Encoded": .bool(base64),
            ])
            return String(decoding: event.jsonBytes, as: UTF8.self)
        }

        @Test func httpEventsAnswerWithStatusCodes() async throws {
            let emulator = try await Self.start()
            func call(_ event: String) async throws -> (status: Int?, body: JSONValue?) {
                let reply = try await emulator.invoke("embed", event)
                #expect(
                    reply.status == 200 && reply.header("X-Amz-Function-Error") == nil,
                    "an HTTP answer, never a function error")
                let document = reply.json
                return (
                    document?["statusCode"]?.integer, document?["body"]?.string.flatMap { try? JSONValue(parsing: $0) }
                )
            }
            let ok = try await call(Self.httpEvent(body: #"{"input":["a b","c"]}"#))
            #expect(ok.status == 200 && ok.body?["data"]?.array?.count == 2)
            let other = try await call(Self.httpEvent(path: "/embeddings", body: #"{"input":"a"}"#, base64: true))
            #expect(other.status == 200 && other.body?["data"]?.array?.count == 1, "base64 bodies and the short path")

            let cases: [(String, Int, String)] = [
                (Self.httpEvent(body: #"{"input":5}"#), 400, "must be a string"),
                (Self.httpEvent(body: "{nope"), 400, "not valid JSON"),
                (
                    Self.httpEvent(body: "%%%", base64: false).replacingOccurrences(
                        of: #""isBase64Encoded":false"#, with: #""isBase64Encoded":true"#), 400, "not valid base64"
                ),
                (Self.httpEvent(method: "GET", body: ""), 405, "use POST"),
                (Self.httpEvent(path: "/v1/search", body: #"{"input":"a"}"#), 404, "no route"),
                (
                    Self.httpEvent(body: "{\"input\":\"" + String(repeating: "a", count: 2100) + "\"}"), 413,
                    "at most 2000"
                ),
            ]
            for (event, status, message) in cases {
                let answer = try await call(event)
                #expect(answer.status == status)
                #expect(
                    answer.body?["error"]?["message"]?.string?.contains(message) == true,
                    "\(String(describing: answer.body))")
            }
            try await emulator.stop()
        }

        static func sqsEvent(_ bodies: [String]) -> String {
            let records = bodies.enumerated().map { index, body -> JSONValue in
                .object([
                    "messageId": .string("m\(index)"), "receiptHandle": .string("r\(index)"), "body": .string(body),
                    "eventSource": .string("aws:sqs"),
                    "eventSourceARN": .string("arn:aws:sqs:us-east-1:012345678912:q"),
                    "awsRegion": .string("us-east-1"), "attributes": .object([:]), "messageAttributes": .object([:]),
                ])
            }
            return String(decoding: JSONValue.object(["Records": .array(records)]).jsonBytes, as: UTF8.self)
        }

        @Test func sqsBatchesReportOnlyTheBadRecords() async throws {
            let emulator = try await Self.start()
            let reply = try await emulator.invoke(
                "embed",
                Self.sqsEvent([
                    "hello world", #"{"input":["a","b c"]}"#, #"{"input": 3}"#, "", "{broken",
                    #"{"input":"x","encoding_format":"base64"}"#,
                ]), headers: ["X-Amz-Log-Type": "Tail"])
            let body = try #require(reply.json, "\(reply.text)")
            #expect(
                body["batchItemFailures"]?.array?.compactMap { $0["itemIdentifier"]?.string } == ["m2", "m3", "m4"])
            let results = body["results"]?.array ?? []
            #expect(results.compactMap { $0["messageId"]?.string } == ["m0", "m1", "m5"])
            #expect(results.map { $0["response"]?["data"]?.array?.count ?? 0 } == [1, 2, 1])
            #expect(results[2]["response"]?["data"]?.array?.first?["embedding"]?.string != nil)
            // One batched pass: the metrics count four texts and three rejected records.
            let metrics = try #require(try Self.metricLines(reply).last)
            #expect(metrics["BatchSize"] == .number(4) && metrics["Rejected"] == .number(3))
            try await emulator.stop()
        }

        @Test func sqsResultsCanGoToTheLogAsEMF() async throws {
            let emulator = try await Self.start(["sqs": .object(["results": .string("log")])])
            let reply = try await emulator.invoke(
                "embed", Self.sqsEvent(["a", "b"]), headers: ["X-Amz-Log-Type": "Tail"])
            #expect(reply.json == .object(["batchItemFailures": .array([])]), "\(reply.text)")
            let lines = try Self.metricLines(reply).filter { $0["messageId"] != nil }
            #expect(lines.compactMap { $0["messageId"]?.string } == ["m0", "m1"])
            #expect(
                lines.allSatisfy {
                    $0["response"]?["data"]?.array?.first?["embedding"]?.array?.count == 32
                        && $0["Embeddings"] == .number(1)
                })
            try await emulator.stop()
        }

        @Test func metricsAreEMFWithoutInputText() async throws {
            let emulator = try await Self.start(["metrics": .object(["namespace": .string("FlintTest")])])
            let secret = "zebra quagga"
            let first = try await emulator.invoke(
                "embed", "{\"input\":\"\(secret)\"}", headers: ["X-Amz-Log-Type": "Tail"])
            let second = try await emulator.invoke(
                "embed", #"{"input":["a","b"]}"#, headers: ["X-Amz-Log-Type": "Tail"])
            let line = try #require(try Self.metricLines(first).last)
            let directive = try #require(line["_aws"]?["CloudWatchMetrics"]?.array?.first)
            #expect(directive["Namespace"] == .string("FlintTest"))
            #expect(
                directive["Dimensions"]
                    == .array(
                        [
                            ["FunctionName", "Model"], ["FunctionName", "FunctionVersion"],
                            ["FunctionName", "ModelVersion"],
                        ]
                        .map { .array($0.map { .string($0) }) }))
            let names = Set((directive["Metrics"]?.array ?? []).compactMap { $0["Name"]?.string })
            #expect(
                names.isSuperset(of: [
                    "TokenizeTime", "ForwardTime", "TotalTime", "Tokens", "BatchSize", "Truncations", "ColdStart",
                ]))
            for name in names { #expect(line[name]?.number != nil, "\(name) has a value") }
            #expect(line["_aws"]?["Timestamp"]?.number ?? 0 > 1.7e12)
            #expect(
                line["FunctionName"] == .string("embed") && line["Model"] == .string("tiny")
                    && line["ModelVersion"]?.string?.count == 12 && line["FunctionVersion"] == .string("$LATEST"))
            #expect(line["ColdStart"] == .number(1) && line["BatchSize"] == .number(1))
            let total = try #require(line["TotalTime"]?.number), forward = try #require(line["ForwardTime"]?.number)
            #expect(total >= forward && forward > 0)
            let next = try #require(try Self.metricLines(second).last)
            #expect(next["ColdStart"] == .number(0) && next["BatchSize"] == .number(2))
            let log = String(
                decoding: Data(base64Encoded: first.header("X-Amz-Log-Result") ?? "") ?? Data(), as: UTF8.self)
            #expect(!log.contains("zebra"), "no input text in logs at the default level")
            try await emulator.stop()
        }

        @Test func aggregatedMetricsCarryEveryValue() async throws {
            let emulator = try await Self.start(["metrics": .object(["aggregateSeconds": .number(0.3)])])
            var lines: [JSONValue] = []
            for _ in 0..<6 {
                lines += try Self.metricLines(
                    try await emulator.invoke("embed", #"{"input":"a"}"#, headers: ["X-Amz-Log-Type": "Tail"]))
                try await Task.sleep(for: .milliseconds(80))
            }
            let aggregated = try #require(lines.first, "a line once the interval passed")
            let counts = aggregated["Invocations"]?.array?.compactMap(\.number) ?? []
            #expect(counts.count >= 2 && counts.allSatisfy { $0 == 1 }, "one value per invocation of the interval")
            #expect(aggregated["requestId"] == nil)
            try await emulator.stop()
        }

        @Test func missingModelFailsInitWithItsPath() async throws {
            let root = try Self.taskRoot()
            try FileManager.default.removeItem(atPath: root + "/model.flint")
            let emulator = try await EmulatorHarness([EmulatorHarness.function("embed", taskRoot: root)])
            let reply = try await emulator.invoke("embed", #"{"input":"a"}"#)
            #expect(reply.json?["errorType"] == .string("Runtime.InitError"), "\(reply.text)")
            #expect(reply.json?["errorMessage"]?.string?.contains("model.flint") == true)
            try await emulator.stop()
        }
    }
}

extension EmulatorIntegration.EmbedFunctionTests {
    @Test(
        .enabled(if: EmulatorIntegration.StreamingInvokeTests.boto3, "boto3 is not installed (deploy/test installs it)")
    )
    func streamedEmbeddingsArriveAsJSONLinesBatchByBatch() async throws {
        let emulator = try await Self.start([
            "limits": .object([
                "maxInputs": .number(4), "maxStreamedInputs": .number(500),
                "maxCharactersPerInput": .number(300),
            ])
        ])
        let texts = (0..<200).map { "text number \($0)" }
        let event = String(
            decoding: JSONValue.object(["input": .array(texts.map { .string($0) }), "stream": .bool(true)]).jsonBytes,
            as: UTF8.self)
        let answer = try EmulatorIntegration.StreamingInvokeTests.stream(emulator.port, "embed", event)
        let chunks = answer["events"]?.array?.filter { $0["type"] == .string("PayloadChunk") } ?? []
        #expect(chunks.count >= 3, "200 texts leave in batches of 32: \(chunks.count) chunks")
        #expect(answer["complete"]?["ErrorCode"] == nil, "\(answer["complete"] ?? .null)")
        // Through the buffered API the stream's lines arrive whole; check every line there.
        let buffered = try await emulator.invoke("embed", event)
        let lines = buffered.text.split(separator: "\n").map { try? JSONValue(parsing: String($0)) }
        #expect(lines.count == 201)
        #expect(
            lines.prefix(200).enumerated().allSatisfy {
                $1?["index"]?.integer == $0 && $1?["embedding"]?.array?.count == 32
            })
        #expect(
            lines.last??["object"] == .string("usage") && lines.last??["usage"]?["prompt_tokens"]?.integer ?? 0 > 600)
        // Bad input is still a plain error, found before the first line.
        let bad = try await emulator.invoke("embed", #"{"input": ["ok", 5], "stream": true}"#)
        #expect(bad.json?["errorType"] == .string("Function.InvalidInput"))
        let tooMany = try await emulator.invoke("embed", #"{"input": ["a","b","c","d","e"]}"#)
        #expect(
            tooMany.json?["errorMessage"]?.string?.contains("at most 4") == true, "buffered requests keep maxInputs")
        try await emulator.stop()
    }
}
