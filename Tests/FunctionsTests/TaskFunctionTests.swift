import FlintJSON
import Foundation
import Functions
import LambdaRuntime
import TestSupport
import Testing

/// rerank, classify with a model's own head, and prompts in embed, in-process over the `Tests/TaskFixtures`
/// checkpoints (int8), against what sentence-transformers and `transformers` compute on them (within 0.02).
@Suite(.timeLimit(.minutes(2)))
struct TaskFunctionTests {
    static let references = try! JSONValue(parsing: TaskFixtures.referenceBytes())
    static let documents = references["documents"]!.array!.map { $0.string! }
    static let texts = references["texts"]!.array!.map { $0.string! }

    static func handler(
        _ function: String, model: String, configuration: [String: JSONValue] = [:]
    ) throws -> any LambdaHandler {
        try FunctionFixture.handler(
            function, configuration: configuration, variables: ["FLINT_MODEL": FunctionFixture.taskModel(model)])
    }

    static func json(_ value: JSONValue) -> String { String(decoding: value.jsonBytes, as: UTF8.self) }

    static func invalidInput(_ handler: any LambdaHandler, _ event: String) -> String? {
        do {
            _ = try FunctionFixture.invoke(handler, event)
            return nil
        } catch let error as HandlerError {
            return error.type == "InvalidInput" ? error.message : "\(error.type): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        return dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    // MARK: - rerank

    @Test func crossEncoderRerankEqualsCrossEncoderPredict() throws {
        let rerank = try Self.handler("rerank", model: "rerank-bert")
        let query = Self.references["query"]!.string!
        let request: JSONValue = .object([
            "query": .string(query), "documents": .array(Self.documents.map { .string($0) }),
            "return_documents": .bool(true), "model": .string("rerank-english-v3.0"),
        ])
        let answer = try FunctionFixture.invoke(rerank, Self.json(request))
        let expected = Self.references["rerank"]!.array!.prefix(Self.documents.count).map { $0.number! }
        let results = try #require(answer["results"]?.array)
        #expect(results.count == Self.documents.count)
        var previous = Double.infinity
        for result in results {
            let index = try #require(result["index"]?.integer)
            let score = try #require(result["relevance_score"]?.number)
            #expect(abs(score - expected[index]) <= 0.02, "document \(index): \(score) against \(expected[index])")
            #expect(score <= previous, "best first")
            previous = score
            #expect(result["document"]?["text"] == .string(Self.documents[index]))
        }
        let best = expected.indices.max { expected[$0] < expected[$1] }!
        let second = expected.indices.filter { $0 != best }.max { expected[$0] < expected[$1] }!
        if expected[best] - expected[second] > 0.02 { #expect(results[0]["index"]?.integer == best) }
        #expect(answer["model"] == .string("rerank-bert"))
        #expect((answer["usage"]?["total_tokens"]?.integer ?? 0) > Self.documents.count * 3)

        // top_n, the texts alias, {"text": ...} documents and raw scores.
        let raw = try FunctionFixture.invoke(
            rerank,
            Self.json(
                .object([
                    "query": .string(query), "texts": .array(Self.documents.map { .object(["text": .string($0)]) }),
                    "top_n": .number(2), "raw_scores": .bool(true),
                ])))
        let logits = Self.references["rerank_logits"]!.array!.map { $0.number! }
        let rawResults = try #require(raw["results"]?.array)
        #expect(rawResults.count == 2)
        for result in rawResults {
            let index = result["index"]!.integer!
            #expect(abs(result["relevance_score"]!.number! - logits[index]) <= 0.1)
            #expect(result["document"] == nil)
        }
    }

    @Test func rerankAnswersHTTPAndRefusesBadRequests() throws {
        let rerank = try Self.handler(
            "rerank", model: "rerank-bert",
            configuration: ["limits": .object(["maxDocuments": .number(3), "maxTotalTokens": .number(60)])])
        let http = try FunctionFixture.invoke(
            rerank, FunctionFixture.http(#"{"query":"reset password","documents":["a","b"]}"#, path: "/v1/rerank"))
        #expect(http["statusCode"]?.integer == 200)
        let cases: [(String, String)] = [
            (#"{"documents":["a"]}"#, "\"query\" is required: the text to rank the documents against"),
            (#"{"query":"q","documents":"a"}"#, "\"documents\" must be an array of documents, not one string"),
            (#"{"query":"q","documents":[]}"#, "\"documents\" is an empty array"),
            (#"{"query":"q","documents":["a",""]}"#, "documents[1] is empty"),
            (
                #"{"query":"q","documents":["a",{"title":"b"}]}"#,
                "documents[1] must be a string or an object with a \"text\" string"
            ),
            (#"{"query":"q","documents":["a"],"top_n":0}"#, "\"top_n\" must be a positive integer"),
            (#"{"query":"q","documents":["a"],"texts":["b"]}"#, "send \"documents\" or its alias \"texts\", not both"),
            (
                #"{"query":"q","documents":["a","b","c","d"]}"#,
                "\"documents\" has 4 texts; this function takes at most 3 per request"
            ),
            (
                #"{"query":"q","documents":["a"],"rank_fields":["x"]}"#,
                "unknown field \"rank_fields\" (accepted: documents, model, query, raw_scores, return_documents, return_text, texts, top_n)"
            ),
            (
                Self.json(
                    .object([
                        "query": .string("q"),
                        "documents": .array(Array(repeating: .string(Self.documents[6]), count: 3)),
                    ])),
                "the request has more than 60 tokens in all (query and document pairs), this function's limit"
            ),
        ]
        for (event, message) in cases { #expect(Self.invalidInput(rerank, event) == message) }
        #expect(
            Self.invalidInput(rerank, FunctionFixture.sqs([#"{"query":"q","documents":["a"]}"#]))?.contains(
                "not SQS batches") == true)
    }

    @Test func pairsAreCutToMaxTokensPerPair() throws {
        let rerank = try Self.handler(
            "rerank", model: "rerank-bert", configuration: ["limits": .object(["maxTokensPerPair": .number(12)])])
        let request: JSONValue = .object([
            "query": Self.references["long_query"]!, "documents": .array(Self.documents.map { .string($0) }),
        ])
        let answer = try FunctionFixture.invoke(rerank, Self.json(request))
        #expect(answer["usage"]?["total_tokens"]?.integer == 12 * Self.documents.count, "every pair cut to 12 tokens")
        #expect {
            _ = try Self.handler(
                "rerank", model: "rerank-bert", configuration: ["limits": .object(["maxTokensPerPair": .number(41)])])
        } throws: { error in
            error is ConfigurationError
                && "\(error)".contains("maxTokensPerPair 41 is over the model's limit of 40 tokens")
        }
    }

    @Test func rerankByEmbeddingsUsesTheQueryAndDocumentPrompts() throws {
        let rerank = try Self.handler("rerank", model: "embed-distilbert-prompts")
        let answer = try FunctionFixture.invoke(
            rerank,
            Self.json(.object(["query": .string(Self.texts[0]), "documents": .array(Self.texts.map { .string($0) })])))
        let embedded = Self.references["embed"]!["embed-distilbert-prompts"]!
        let query = embedded["query"]!.array![0].array!.map { $0.number! }
        #expect(answer["results"]?.array?.count == Self.texts.count)
        for result in try #require(answer["results"]?.array) {
            let index = result["index"]!.integer!
            let document = embedded["document"]!.array![index].array!.map { $0.number! }
            let expected = Self.cosine(query, document)
            #expect(abs(result["relevance_score"]!.number! - expected) <= 0.02, "document \(index)")
        }
    }

    @Test func functionsRefuseAModelOfTheWrongTask() throws {
        #expect {
            _ = try Self.handler("rerank", model: "classify-bert")
        } throws: { error in
            error is ConfigurationError && "\(error)".contains("classifies into 3 labels; rerank needs a cross-encoder")
        }
        #expect {
            _ = try Self.handler("embed", model: "classify-distilbert")
        } throws: { error in
            error is ConfigurationError
                && "\(error)".contains("is a sequence classifier (4 labels), not an embedding model")
        }
    }

    // MARK: - classify with the model's head

    @Test(arguments: ["classify-bert", "classify-distilbert", "regress-distilbert"])
    func classifyUsesTheHeadAsThePipelineDoes(model: String) throws {
        let classify = try Self.handler("classify", model: model)
        let answer = try FunctionFixture.invoke(
            classify, Self.json(.object(["input": .array(Self.texts.map { .string($0) }), "truncate": .bool(true)])))
        let results = try #require(answer["results"]?.array)
        #expect(results.count == Self.texts.count)
        for (index, expected) in Self.references[model]!.array!.enumerated() {
            let scores = try #require(results[index]["scores"]?.array)
            #expect(scores.count == expected.object!.count)
            for score in scores {
                let label = score["label"]!.string!
                #expect(
                    abs(score["score"]!.number! - expected[label]!.number!) <= 0.02, "\(model) text \(index) \(label)")
            }
            #expect(results[index]["label"] == scores[0]["label"])
        }
        let top = try FunctionFixture.invoke(classify, #"{"input":"thank you","top_k":1}"#)
        #expect(top["results"]?.array?.first?["scores"]?.array?.count == 1)
        #expect(
            Self.invalidInput(classify, #"{"input":"x","labels":["a","b"]}"#)
                == "unknown field \"labels\" (accepted: function_to_apply, input, top_k, truncate)")
        #expect(
            Self.invalidInput(classify, #"{"input":"x","function_to_apply":"relu"}"#)
                == "\"function_to_apply\" must be \"softmax\", \"sigmoid\" or \"none\"")
    }

    @Test func functionToApplyOverridesThePipelinesChoice() throws {
        let classify = try Self.handler("classify", model: "classify-bert")
        let answer = try FunctionFixture.invoke(classify, #"{"input":"thank you","function_to_apply":"none"}"#)
        let total = answer["results"]?.array?.first?["scores"]?.array?.reduce(0.0) { $0 + $1["score"]!.number! } ?? 1
        #expect(abs(total - 1) > 1e-3, "raw outputs do not sum to one as softmax scores do")
    }

    // MARK: - Prompts in embed

    @Test(arguments: ["embed-distilbert-prompts", "embed-bert-prompts"])
    func embedInputTypesEqualSentenceTransformersPrompts(model: String) throws {
        let embed = try Self.handler("embed", model: model)
        let expected = Self.references["embed"]![model]!
        for (inputType, promptName) in [
            (nil, "None"), ("query", "query"), ("document", "document"), ("search_query", "query"),
            ("search_document", "document"),
        ] as [(String?, String)] {
            var request: [String: JSONValue] = [
                "input": .array(Self.texts.map { .string($0) }), "truncate": .bool(true),
            ]
            if let inputType { request["input_type"] = .string(inputType) }
            let answer = try FunctionFixture.invoke(embed, Self.json(.object(request)))
            #expect(answer["data"]?.array?.count == Self.texts.count)
            for (index, item) in (answer["data"]?.array ?? []).enumerated() {
                let vector = item["embedding"]!.array!.map { $0.number! }
                let reference = expected[promptName]!.array![index].array!.map { $0.number! }
                #expect(Self.cosine(vector, reference) >= 0.995, "\(model) \(inputType ?? "default") text \(index)")
            }
        }
        #expect(
            Self.invalidInput(embed, #"{"input":"x","input_type":"classification"}"#)
                == "\"input_type\" 'classification' is not one of this model's prompt names (\"document\", \"query\", \"search_document\", \"search_query\")"
        )
    }

    @Test func functionJSONAddsPromptsToAModelWithout() throws {
        let plain = try FunctionFixture.handler("embed")
        #expect(try FunctionFixture.invoke(plain, #"{"input":"w1","input_type":"search_query"}"#)["data"] != nil)
        #expect(Self.invalidInput(plain, #"{"input":"w1","input_type":"other"}"#)?.contains("\"passage\"") == true)
        let prompted = try FunctionFixture.handler(
            "embed", configuration: ["prompts": .object(["query": .string("w7 w8 ")])])
        let withPrompt = try FunctionFixture.invoke(prompted, #"{"input":"w1 w2","input_type":"query"}"#)
        let spelledOut = try FunctionFixture.invoke(plain, #"{"input":"w7 w8 w1 w2"}"#)
        #expect(withPrompt["data"]?.array?.first?["embedding"] == spelledOut["data"]?.array?.first?["embedding"])
        #expect(withPrompt["usage"]?["total_tokens"]?.integer == 6)
        #expect {
            _ = try FunctionFixture.handler("embed", configuration: ["defaultPromptName": .string("nothing")])
        } throws: { error in
            error is ConfigurationError && "\(error)".hasPrefix("defaultPromptName 'nothing' names no prompt")
        }
    }
}
