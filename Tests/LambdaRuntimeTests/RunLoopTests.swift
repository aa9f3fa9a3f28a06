import FlintJSON
import Foundation
import LambdaCodable
import LambdaRuntime
import Synchronization
import Testing

/// The runtime loop against a real HTTP fake of the Runtime API on loopback.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct RunLoopTests {
    @Test func parsesEveryHeaderAndPostsTheResponseToTheRightID() throws {
        let api = try FakeRuntimeAPI()
        let seen = Mutex<LambdaContext?>(nil)
        api.enqueue(
            requestID: "req-1", body: #"{"hello":"world"}"#,
            headers: [
                "Lambda-Runtime-Deadline-Ms": "1893456000000",
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:1:function:f:live",
                "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                "Lambda-Runtime-Client-Context": #"{"client":{"app_title":"t"}}"#,
                "Lambda-Runtime-Cognito-Identity": #"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#,
                "Lambda-Runtime-Aws-Tenant-Id": "tenant-7",
                "Lambda-Runtime-Invocation-Id": "inv-42",
            ])
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { event, context, response in
                seen.withLock { $0 = context }
                response.append(contentsOf: event)
            })
        let posts = api.waitForPosts(1)
        api.shutDown()
        #expect(runtime.wait() == 1)

        let context = try #require(seen.withLock { $0 })
        #expect(context.requestID == "req-1")
        #expect(context.deadlineMilliseconds == 1_893_456_000_000)
        #expect(context.invokedFunctionARN == "arn:aws:lambda:eu-west-1:1:function:f:live")
        #expect(context.traceID == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
        #expect(context.clientContext == #"{"client":{"app_title":"t"}}"#)
        #expect(context.cognitoIdentity == #"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#)
        #expect(context.tenantID == "tenant-7")
        #expect(context.invocation.invocationID == "inv-42")
        #expect(context.function.name == "test")
        #expect(context.function.memoryMegabytes == 256)
        #expect(context.remainingTime > .seconds(3600))

        let post = try #require(posts.first)
        #expect(post.method == "POST")
        #expect(post.path == "/2018-06-01/runtime/invocation/req-1/response")
        #expect(post.text == #"{"hello":"world"}"#)
        #expect(post.headers["lambda-runtime-invocation-id"] == "inv-42")
        #expect(post.headers["expect"] == nil)
    }

    /// With or without an invocation id, a response is labelled as the opaque bytes it is (libcurl's default for
    /// a post with headers of its own is a form encoding).
    @Test func everyResponseSaysOctetStream() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "with-id", body: "a", headers: ["Lambda-Runtime-Invocation-Id": "inv-1"])
        api.enqueue(requestID: "without-id", body: "b")
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        let posts = api.waitForPosts(2)
        api.shutDown()
        #expect(runtime.wait() == 1)
        try #require(posts.count == 2)
        for post in posts {
            #expect(post.headers["content-type"] == "application/octet-stream", "\(post.path)")
        }
        #expect(posts[0].headers["lambda-runtime-invocation-id"] == "inv-1")
    }

    @Test func handlerErrorIsReportedAndTheLoopServesTheNextEvent() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "bad", body: "fail")
        api.enqueue(requestID: "good", body: "ok")
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { event, _, response in
                if event == Array("fail".utf8) { throw HandlerError(type: "Boom", message: "it \"broke\"\nbadly") }
                response.append(contentsOf: event)
            })
        let posts = api.waitForPosts(2)
        api.shutDown()
        #expect(runtime.wait() == 1)
        try #require(posts.count == 2)

        #expect(posts[0].path == "/2018-06-01/runtime/invocation/bad/error")
        #expect(posts[0].headers["lambda-runtime-function-error-type"] == "Function.Boom")
        #expect(posts[0].headers["content-type"] == "application/json")
        let error = try JSONValue(parsing: posts[0].body)
        #expect(
            error
                == .object([
                    "errorMessage": .string("it \"broke\"\nbadly"), "errorType": .string("Function.Boom"),
                    "stackTrace": .array([]),
                ]))
        #expect(posts[1].path == "/2018-06-01/runtime/invocation/good/response")
        #expect(posts[1].text == "ok")
        #expect(api.connections == 1, "one kept-alive connection serves every request")
        #expect(runtime.log.contains("bad\tERROR\tFunction.Boom"), "the error is logged with its request id")
    }

    @Test func anyThrownErrorIsNamedAfterItsType() throws {
        struct QuotaExceeded: Error {}
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "r", body: "x")
        let runtime = RuntimeHarness(api: api, registry: .single { _, _, _ in throw QuotaExceeded() })
        let posts = api.waitForPosts(1)
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.first?.headers["lambda-runtime-function-error-type"] == "Function.QuotaExceeded")
    }

    @Test func fiveMegabyteEventRoundTrips() throws {
        let api = try FakeRuntimeAPI()
        let body = (0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        api.enqueue(FakeRuntimeAPI.Event(requestID: "big", body: body))
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        let posts = api.waitForPosts(1)
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.first?.body == body)
    }

    @Test func unicodeBytesPassThroughUnchanged() throws {
        let api = try FakeRuntimeAPI()
        let text = #"{"text":"héllo wörld — 日本語 🚀 e\u0301 \u{0}"}"# + "e\u{301} Ω 𝔘"
        api.enqueue(requestID: "u", body: text)
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        let posts = api.waitForPosts(1)
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.first?.body == Array(text.utf8))
    }

    @Test func codableAdapterAnswersInvalidJSONWithInvalidEvent() throws {
        struct Greeting: Decodable { let name: String }
        struct Reply: Encodable { let message: String }
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "broken", body: "{not json")
        api.enqueue(requestID: "wrong", body: #"{"name": 3}"#)
        api.enqueue(requestID: "fine", body: #"{"name": "Ada"}"#)
        let registry = HandlerRegistry([
            "test": { _ in
                CodableHandler { (event: Greeting, _) in Reply(message: "hello \(event.name)") }
            }
        ])
        let runtime = RuntimeHarness(api: api, registry: registry)
        let posts = api.waitForPosts(3)
        api.shutDown()
        #expect(runtime.wait() == 1)
        try #require(posts.count == 3)
        #expect(posts[0].headers["lambda-runtime-function-error-type"] == "Function.InvalidEvent")
        #expect(try JSONValue(parsing: posts[0].body)["errorMessage"]?.string?.contains("invalid JSON") == true)
        #expect(posts[1].headers["lambda-runtime-function-error-type"] == "Function.InvalidEvent")
        #expect(
            try JSONValue(parsing: posts[1].body)["errorMessage"]?.string?.contains("expected String at .name") == true)
        #expect(posts[2].path.hasSuffix("/fine/response"))
        #expect(try JSONValue(parsing: posts[2].body) == .object(["message": .string("hello Ada")]))
    }

    @Test func throwingInitIsPostedToInitErrorAndExitsNonZero() throws {
        struct MissingModel: Error, CustomStringConvertible { var description: String { "model.flint not found" } }
        let api = try FakeRuntimeAPI()
        let runtime = RuntimeHarness(api: api, registry: HandlerRegistry(["test": { _ in throw MissingModel() }]))
        #expect(runtime.wait() == 1)
        let post = try #require(api.posts.first)
        #expect(post.path == "/2018-06-01/runtime/init/error")
        #expect(post.headers["lambda-runtime-function-error-type"] == "Runtime.InitError")
        #expect(
            try JSONValue(parsing: post.body)["errorMessage"]?.string
                == "handler 'test' failed to initialise: model.flint not found")
        #expect(api.nextCalls == 0, "no /next after a failed init")
    }

    @Test func unknownHandlerListsTheKnownOnes() throws {
        let api = try FakeRuntimeAPI()
        let registry = HandlerRegistry([
            "echo": { _ in ClosureHandler { _, _, _ in } }, "probe": { _ in ClosureHandler { _, _, _ in } },
        ])
        let runtime = RuntimeHarness(api: api, handler: "embedd", registry: registry)
        #expect(runtime.wait() == 1)
        let post = try #require(api.posts.first)
        #expect(post.path == "/2018-06-01/runtime/init/error")
        #expect(post.headers["lambda-runtime-function-error-type"] == "Runtime.NoSuchHandler")
        #expect(
            try JSONValue(parsing: post.body)["errorMessage"]?.string
                == "no handler named 'embedd'; this bootstrap serves: echo, probe")
    }

    @Test func invalidConfigurationIsAnInitError() throws {
        let api = try FakeRuntimeAPI()
        let runtime = RuntimeHarness(
            api: api, registry: .single { _, _, _ in },
            environment: ["AWS_LAMBDA_MAX_CONCURRENCY": "lots"])
        #expect(runtime.wait() == 1)
        let post = try #require(api.posts.first)
        #expect(post.headers["lambda-runtime-function-error-type"] == "Runtime.ConfigInvalid")
        #expect(post.text.contains("AWS_LAMBDA_MAX_CONCURRENCY 'lots'"))
    }

    @Test func aFactoryRefusingItsConfigurationIsConfigInvalid() throws {
        let api = try FakeRuntimeAPI()
        let runtime = RuntimeHarness(
            api: api,
            registry: HandlerRegistry([
                "test": { context in
                    throw ConfigurationError(
                        "FLINT_THREADS '\(context.variable("FLINT_THREADS") ?? "")' is not a whole number from 1 to 16")
                }
            ]), environment: ["FLINT_THREADS": "many"])
        #expect(runtime.wait() == 1)
        let post = try #require(api.posts.first)
        #expect(post.path == "/2018-06-01/runtime/init/error")
        #expect(post.headers["lambda-runtime-function-error-type"] == "Runtime.ConfigInvalid")
        #expect(
            try JSONValue(parsing: post.body)["errorMessage"]?.string
                == "FLINT_THREADS 'many' is not a whole number from 1 to 16")
    }

    @Test func goneOnResponseIsNotFatal() throws {
        let api = try FakeRuntimeAPI { request in
            request.path.contains("/late/")
                ? (410, #"{"errorMessage":"Invoke timeout","errorType":"InvokeTimeout"}"#) : nil
        }
        api.enqueue(requestID: "late", body: "1")
        api.enqueue(requestID: "next", body: "2")
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        let posts = api.waitForPosts(2)
        api.shutDown()
        #expect(runtime.wait() == 1)
        #expect(
            posts.map(\.path) == [
                "/2018-06-01/runtime/invocation/late/response", "/2018-06-01/runtime/invocation/next/response",
            ])
        #expect(runtime.log.contains("late\tWARN\t"))
    }

    @Test func serviceErrorOnNextExitsWithOneLogLine() throws {
        let api = try FakeRuntimeAPI()
        api.shutDown()
        let runtime = RuntimeHarness(api: api, registry: .single { _, _, _ in })
        #expect(runtime.wait() == 1)
        let lines = runtime.log.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("FATAL\tRuntime API failure, exiting: GET /next returned 500") == true)
    }

    @Test func unreachableAPIExitsAfterQuickRetries() throws {
        let port = FakeRuntimeAPI.unusedPort()
        let runtime = RuntimeHarness(
            api: try FakeRuntimeAPI(), registry: .single { _, _, _ in },
            environment: ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(port)"])
        #expect(runtime.wait() == 1)
        #expect(runtime.log.contains("GET /next at 127.0.0.1:\(port) failed 4 times"))
    }

    @Test func responseServerErrorExits() throws {
        let api = try FakeRuntimeAPI { _ in (500, #"{"errorType":"InternalServerError"}"#) }
        api.enqueue(requestID: "a", body: "1")
        api.enqueue(requestID: "b", body: "2")
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        #expect(runtime.wait() == 1)
        #expect(api.posts.count == 1, "the loop stops after the 500 instead of serving b")
    }

    @Test func missingDeadlineIsReportedAsARuntimeError() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(FakeRuntimeAPI.Event(requestID: "nodeadline", body: [], omit: ["Lambda-Runtime-Deadline-Ms"]))
        api.enqueue(requestID: "fine", body: "x")
        let runtime = RuntimeHarness(
            api: api, registry: .single { event, _, response in response.append(contentsOf: event) })
        let posts = api.waitForPosts(2)
        api.shutDown()
        _ = runtime.wait()
        try #require(posts.count == 2)
        #expect(posts[0].path.hasSuffix("/nodeadline/error"))
        #expect(posts[0].headers["lambda-runtime-function-error-type"] == "Runtime.InvalidInvocation")
        #expect(posts[0].text.contains("no Lambda-Runtime-Deadline-Ms header"))
        #expect(posts[1].path.hasSuffix("/fine/response"))
    }

    @Test func missingRequestIDEndsTheRuntime() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(FakeRuntimeAPI.Event(requestID: "x", body: [], omit: ["Lambda-Runtime-Aws-Request-Id"]))
        let runtime = RuntimeHarness(api: api, registry: .single { _, _, _ in })
        #expect(runtime.wait() == 1)
        #expect(runtime.log.contains("no Lambda-Runtime-Aws-Request-Id header"))
    }

    @Test func oversizedResponseBecomesAnError() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "huge", body: "")
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { _, _, response in
                response.append(
                    contentsOf: repeatElement(UInt8(ascii: "a"), count: LambdaRuntime.maximumResponseBytes + 1))
            })
        let posts = api.waitForPosts(1)
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.first?.headers["lambda-runtime-function-error-type"] == "Function.ResponseSizeTooLarge")
        #expect(posts.first?.text.contains("(6291557 bytes) exceeded") == true)
    }

    @Test func traceIDIsPublishedPerInvocation() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "t1", body: "", headers: ["Lambda-Runtime-Trace-Id": "Root=1-a;Sampled=1"])
        api.enqueue(requestID: "t2", body: "")
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { _, _, response in
                response.append(contentsOf: (getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) } ?? "<unset>").utf8)
            })
        let posts = api.waitForPosts(2)
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.map(\.text) == ["Root=1-a;Sampled=1", "<unset>"])
    }

    @Test func jsonLogsCarryLambdaFieldNames() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "log-1", body: "")
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { _, context, _ in
                context.logger.debug("hidden at INFO")
                context.logger.info("tab\there \"quoted\"")
            }, environment: ["AWS_LAMBDA_LOG_FORMAT": "JSON"])
        _ = api.waitForPosts(1)
        api.shutDown()
        _ = runtime.wait()
        let lines = runtime.log.split(separator: "\n").map(String.init)
        let info = try #require(lines.first)
        let parsed = try JSONValue(parsing: info)
        #expect(parsed["level"] == .string("INFO"))
        #expect(parsed["message"] == .string("tab\there \"quoted\""))
        #expect(parsed["requestId"] == .string("log-1"))
        let timestamp = try #require(parsed["timestamp"]?.string)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
        #expect(!runtime.log.contains("hidden"))
    }

    @Test func multiConcurrencyRunsIndependentLoops() throws {
        let api = try FakeRuntimeAPI()
        // Each handler call waits until all four loops are inside a handler at once: only four truly concurrent
        // loops can pass, and a timeout (not a clock measurement) fails the test otherwise.
        let inside = Mutex(0)
        let traceSeen = Mutex<[String]>([])
        for index in 0..<8 {
            api.enqueue(
                requestID: "c\(index)", body: "\(index)", headers: ["Lambda-Runtime-Trace-Id": "Root=1-\(index)"])
        }
        let runtime = RuntimeHarness(
            api: api,
            registry: .single { event, context, response in
                let generation = inside.withLock { count -> Int in
                    count += 1
                    return (count - 1) / 4
                }
                let deadline = Date().addingTimeInterval(10)
                while inside.withLock({ $0 }) < (generation + 1) * 4 && Date() < deadline { usleep(1000) }
                traceSeen.withLock { $0.append(getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) } ?? "unset") }
                #expect(context.traceID?.hasPrefix("Root=1-") == true)
                response.append(contentsOf: event)
            }, environment: ["AWS_LAMBDA_MAX_CONCURRENCY": "4"])
        let posts = api.waitForPosts(8)
        api.shutDown()
        #expect(runtime.wait() == 1)
        #expect(posts.count == 8)
        #expect(Set(posts.map(\.text)) == Set((0..<8).map(String.init)))
        #expect(api.connections == 4, "each loop has its own connection")
        #expect(inside.withLock { $0 } == 8)
        #expect(
            traceSeen.withLock { $0 }.allSatisfy { $0 == "unset" }, "no process-wide trace id with concurrent loops")
    }
}
