import FlintJSON
import Foundation
import Functions
import LambdaRuntime
import Testing

/// The invocation pipeline every function runs in, in-process: event shapes, routes, error bodies, usage,
/// streaming decisions, SQS batches and configuration checks.
@Suite(.timeLimit(.minutes(2)))
struct FunctionPipelineTests {
    static let smallLimits: JSONValue = .object([
        "maxInputs": .number(4), "maxTotalTokens": .number(120), "maxRequestBytes": .number(2000),
    ])

    // MARK: - Event shapes and error bodies

    @Test func directAndHTTPGiveTheSameAnswer() throws {
        let embed = try FunctionFixture.handler("embed")
        let direct = try FunctionFixture.invoke(embed, #"{"input":["w1 w2","w3"]}"#)
        let http = try FunctionFixture.invoke(embed, FunctionFixture.http(#"{"input":["w1 w2","w3"]}"#))
        #expect(http["statusCode"]?.integer == 200)
        #expect(http["headers"]?["content-type"] == .string("application/json"))
        let body = try JSONValue(parsing: Array((http["body"]?.string ?? "").utf8))
        #expect(body == direct)
        #expect(direct["data"]?.array?.count == 2)
    }

    @Test(arguments: [
        ("/v1/other", "POST", #"{"input":"w1"}"#, 404, "not_found"),
        ("/v1/embeddings", "GET", #"{"input":"w1"}"#, 405, "method_not_allowed"),
        ("/v1/embeddings", "POST", "{", 400, "invalid_request_error"),
        (
            "/v1/embeddings", "POST", #"{"input":""# + String(repeating: "w1 ", count: 800) + #""}"#, 413,
            "request_too_large"
        ),
    ])
    func httpErrorsHaveOneBodyShape(path: String, method: String, body: String, status: Int, code: String) throws {
        let embed = try FunctionFixture.handler("embed", configuration: ["limits": Self.smallLimits])
        let reply = try FunctionFixture.invoke(embed, FunctionFixture.http(body, path: path, method: method))
        #expect(reply["statusCode"]?.integer == status)
        let error = try JSONValue(parsing: Array((reply["body"]?.string ?? "").utf8))["error"]
        #expect(error?["type"] == .string(code))
        #expect(error?["code"]?.integer == status)
        #expect(error?["message"]?.string?.isEmpty == false)
        #expect((reply["headers"]?["allow"] != nil) == (status == 405))
    }

    @Test func directBadInputIsInvalidInput() throws {
        let embed = try FunctionFixture.handler("embed")
        #expect {
            try FunctionFixture.invoke(embed, #"{"input":["w1",""]}"#)
        } throws: { error in
            (error as? HandlerError)?.type == "InvalidInput" && (error as? HandlerError)?.message == "input[1] is empty"
        }
        #expect(throws: HandlerError.self) { try FunctionFixture.invoke(embed, "not json") }
    }

    // MARK: - Usage, the same fields everywhere

    @Test func everyFunctionReportsUsageTheSameWay() throws {
        let embed = try FunctionFixture.handler("embed")
        let classify = try FunctionFixture.handler("classify")
        let embedded = try FunctionFixture.invoke(embed, #"{"input":"w1 w2 w3"}"#)
        let classified = try FunctionFixture.invoke(classify, #"{"input":"w1 w2 w3","labels":["w4","w5"]}"#)
        for answer in [embedded, classified] {
            #expect(answer["usage"] == .object(["prompt_tokens": .number(5), "total_tokens": .number(5)]), "\(answer)")
            #expect(answer["model"] == .string("tiny"))
        }
    }

    // MARK: - Messages name the request's own field

    @Test func searchNamesItsQueryFieldInEveryMessage() throws {
        let search = try SearchFixture.handler()
        let long = Array(repeating: "w1", count: 80).joined(separator: " ")
        #expect {
            try FunctionFixture.invoke(search, #"{"query":"\#(long)"}"#)
        } throws: { error in
            let message = (error as? HandlerError)?.message ?? ""
            return message.hasPrefix("query has more than") && !message.contains("input")
        }
        #expect {
            try FunctionFixture.invoke(search, #"{"query":["w1",""]}"#)
        } throws: { error in (error as? HandlerError)?.message == "query[1] is empty" }
        let answer = try FunctionFixture.invoke(search, #"{"query":"w1 w2","top_k":2}"#)
        #expect(answer["results"]?.array?.count == 2)
        #expect(answer["usage"]?["total_tokens"]?.integer == 4)
    }

    // MARK: - Streaming, decided from the parsed request

    static func streams(_ handler: any LambdaHandler, _ event: String) throws -> Bool {
        let streaming = try #require(handler as? any LambdaStreamingHandler)
        var response: [UInt8] = []
        return try streaming.respond(to: Array(event.utf8), context: FunctionFixture.context(), response: &response)
            != nil
    }

    @Test func streamingIsDecidedFromTheParsedRequest() throws {
        let embed = try FunctionFixture.handler("embed")
        #expect(try Self.streams(embed, #"{"input":["w1"],"stream":true}"#))
        #expect(try !Self.streams(embed, #"{"input":["w1"]}"#))
        #expect(try Self.streams(embed, FunctionFixture.http(#"{"input":["w1"],"stream":true}"#)))
        // A base64 body never shows the bytes "stream" in the event; it streams all the same.
        #expect(try Self.streams(embed, FunctionFixture.http(#"{"input":["w1"],"stream":true}"#, base64: true)))
        // A value that merely contains the word does not.
        #expect(try !Self.streams(embed, #"{"input":["\"stream\": true"]}"#))
    }

    @Test func aStreamedAnswerIsJSONLinesThenUsage() throws {
        let embed = try FunctionFixture.handler("embed")
        let bytes = try FunctionFixture.invokeBytes(embed, #"{"input":["w1","w2 w3"],"stream":true}"#)
        let lines = try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            try JSONValue(parsing: Array($0.utf8))
        }
        #expect(lines.count == 3)
        #expect(lines.prefix(2).map { $0["index"]?.integer } == [0, 1])
        #expect(lines.last?["object"] == .string("usage"))
        #expect(lines.last?["usage"] == .object(["prompt_tokens": .number(7), "total_tokens": .number(7)]))
    }

    @Test func aStreamedHTTPRequestWithBadInputGetsAStreamedError() throws {
        let embed = try FunctionFixture.handler("embed")
        let bytes = try FunctionFixture.invokeBytes(embed, FunctionFixture.http(#"{"input":[""],"stream":true}"#))
        let split = try #require(bytes.firstRange(of: [UInt8](repeating: 0, count: 8)))
        let prelude = try JSONValue(parsing: Array(bytes[..<split.lowerBound]))
        #expect(prelude["statusCode"]?.integer == 400)
        #expect(
            try JSONValue(parsing: Array(bytes[split.upperBound...]))["error"]?["message"]
                == .string("input[0] is empty"))
    }

    // MARK: - Stream limits apply only where the answer streams

    @Test func anSQSRecordAskingToStreamKeepsTheBufferedLimits() throws {
        let embed = try FunctionFixture.handler("embed", configuration: ["limits": Self.smallLimits])
        let many = JSONValue.object([
            "input": .array(Array(repeating: .string("w1"), count: 10)), "stream": .bool(true),
        ])
        let answer = try FunctionFixture.invoke(
            embed, FunctionFixture.sqs([String(decoding: many.jsonBytes, as: UTF8.self), "w1 w2"]))
        #expect(answer["batchItemFailures"] == .array([.object(["itemIdentifier": .string("m0")])]))
        #expect(answer["results"]?.array?.map { $0["messageId"] } == [.string("m1")])
    }

    @Test func aBatchTooLargeForOneResponseFailsOnlyTheRecordsThatDoNotFit() throws {
        let embed = try FunctionFixture.handler("embed")
        // 256 texts a record, 32 floats each: about 130 KB of answer per record, 80 records ≈ 10 MB.
        let record = String(
            decoding: JSONValue.object(["input": .array(Array(repeating: .string("w1 w2"), count: 256))]).jsonBytes,
            as: UTF8.self)
        let bytes = try FunctionFixture.invokeBytes(embed, FunctionFixture.sqs(Array(repeating: record, count: 80)))
        #expect(bytes.count <= LambdaRuntime.maximumResponseBytes)
        let answer = try JSONValue(parsing: bytes)
        let failed = answer["batchItemFailures"]?.array?.count ?? 0
        let returned = answer["results"]?.array?.count ?? 0
        #expect(failed > 0 && returned > 0 && failed + returned == 80, "\(failed) failed, \(returned) returned")
    }

    // MARK: - Configuration passed in and checked at init

    @Test(arguments: [
        ("FLINT_KERNEL", "fastest", "FLINT_KERNEL 'fastest'"),
        ("FLINT_THREADS", "two", "FLINT_THREADS 'two'"),
        ("FLINT_THREADS", "0", "FLINT_THREADS '0'"),
        ("FLINT_ACTIVATION_GROUP", "6", "FLINT_ACTIVATION_GROUP '6'"),
        ("FLINT_ACTIVATION_GROUP", "x", "FLINT_ACTIVATION_GROUP 'x'"),
        ("FLINT_SPIN_US", "-1", "FLINT_SPIN_US '-1'"),
    ])
    func aBadFlintVariableFailsInitNamingIt(variable: String, value: String, named: String) throws {
        #expect {
            try FunctionFixture.handler("embed", variables: [variable: value])
        } throws: { error in
            error is ConfigurationError && "\(error)".hasPrefix(named)
        }
    }

    #if arch(x86_64)
    @Test func aKernelThisCPULacksFailsInitListingTheOnesItHas() throws {
        #expect {
            try FunctionFixture.handler("embed", variables: ["FLINT_KERNEL": "neon"])
        } throws: { error in
            "\(error)".hasPrefix("FLINT_KERNEL 'neon' cannot run on this CPU (available: scalar")
        }
    }
    #endif

    @Test func theModelComesFromTheInitContextNotTheProcess() throws {
        #expect {
            try FunctionFixture.handler("embed", variables: ["FLINT_MODEL": "/nonexistent/model.flint"])
        } throws: { error in
            error is ConfigurationError && "\(error)".hasPrefix("FLINT_MODEL '/nonexistent/model.flint' cannot be used")
        }
        #expect {
            try FunctionFixture.handler("search", variables: ["FLINT_INDEX": "/nonexistent/index.flintidx"])
        } throws: { error in
            error is ConfigurationError && "\(error)".hasPrefix("FLINT_INDEX '/nonexistent/index.flintidx'")
        }
    }

    @Test func metricsGoToTheDescriptorTheContextNames() throws {
        let path = NSTemporaryDirectory() + "flint-emf-\(UUID().uuidString)"
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(file)
            unlink(path)
        }
        let embed = try FunctionFixture.handler("embed", output: file)
        _ = try FunctionFixture.invoke(embed, #"{"input":"w1"}"#)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let line = try JSONValue(parsing: Array(lines[0].utf8))
        #expect(line["Tokens"]?.integer == 3 && line["requestId"] == .string("req-1") && line["Rejected"]?.integer == 0)
    }
}
