import FlintJSON
import Foundation
import Functions
import LambdaRuntime
import Testing

/// Response streaming, runtime side: chunks leave as they are written, mid-stream failures become trailers,
/// HTTP preludes, answers over 6 MB, and a writer used after finish. Driven by functions/probe's streaming modes
/// against the fake Runtime API, which records each chunk's arrival time and the trailers.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct StreamingTests {
    /// Runs one probe invocation and returns what the runtime posted, and its log.
    static func invoke(_ event: String) throws -> (FakeRuntimeAPI.Request, String) {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "stream-1", body: event)
        let runtime = RuntimeHarness(api: api, handler: "probe", registry: FunctionRegistry.all)
        let posts = api.waitForPosts(1, timeout: .seconds(30))
        api.shutDown()
        _ = runtime.wait()
        return (try #require(posts.first), runtime.log)
    }

    @Test func chunksLeaveAsTheyAreWritten() throws {
        let (post, _) = try Self.invoke(#"{"stream": 5, "chunk_ms": 80}"#)
        #expect(post.path.hasSuffix("/runtime/invocation/stream-1/response"))
        #expect(post.headers["lambda-runtime-function-response-mode"] == "streaming")
        #expect(post.headers["transfer-encoding"] == "chunked")
        #expect(post.headers["trailer"]?.contains("Lambda-Runtime-Function-Error-Type") == true)
        #expect(post.headers["content-type"] == "application/octet-stream")
        #expect(post.text == (0..<5).map { "chunk \($0)\n" }.joined())
        #expect(post.chunks.count >= 4, "separate chunks, not one buffered body: \(post.chunks.map(\.bytes))")
        let spread = (post.chunks.last?.at ?? 0) - (post.chunks.first?.at ?? 0)
        #expect(spread > 0.25, "the first chunk arrived \(spread) s before the last, which was written 320 ms after it")
        #expect(post.trailers["lambda-runtime-function-error-type"] == nil)
    }

    @Test(arguments: [#"{"stream": 5, "fail_after": 2}"#, #"{"stream": 5, "fail_after": 2, "chunk_ms": 30}"#])
    func failureAfterTheFirstChunkEndsTheBodyWithTrailers(event: String) throws {
        let (post, log) = try Self.invoke(event)
        #expect(post.path.hasSuffix("/response") && post.text == "chunk 0\nchunk 1\n")
        #expect(post.trailers["lambda-runtime-function-error-type"] == "Function.ProbeFailure")
        let body = try #require(post.trailers["lambda-runtime-function-error-body"].flatMap { Data(base64Encoded: $0) })
        let document = try JSONValue(parsing: Array(body))
        #expect(document["errorType"] == .string("Function.ProbeFailure"))
        #expect(document["errorMessage"] == .string("failed after 2 chunks, as asked"))
        #expect(log.contains("stream ended by Function.ProbeFailure"))
    }

    @Test func failureBeforeAnyChunkIsAPlainError() throws {
        let (post, _) = try Self.invoke(#"{"stream": 3, "fail_after": 0}"#)
        #expect(post.path.hasSuffix("/runtime/invocation/stream-1/error"))
        #expect(post.headers["lambda-runtime-function-error-type"] == "Function.ProbeFailure")
        #expect(try JSONValue(parsing: post.body)["errorMessage"] == .string("failed after 0 chunks, as asked"))
    }

    @Test func httpPreludeComesFirst() throws {
        let (post, _) = try Self.invoke(#"{"stream": 2, "http": true}"#)
        #expect(post.headers["content-type"] == "application/vnd.awslambda.http-integration-response")
        let delimiter = try #require(post.body.firstRange(of: [UInt8](repeating: 0, count: 8)))
        let prelude = try JSONValue(parsing: Array(post.body[..<delimiter.lowerBound]))
        #expect(prelude["statusCode"] == .number(201))
        #expect(prelude["headers"]?["content-type"] == .string("text/plain"))
        #expect(prelude["cookies"] == .array([.string("probe=1; Path=/")]))
        #expect(String(decoding: post.body[delimiter.upperBound...], as: UTF8.self) == "chunk 0\nchunk 1\n")
    }

    @Test func streamedAnswersMayExceedSixMegabytes() throws {
        let (post, _) = try Self.invoke(#"{"stream": 20, "chunk_bytes": 1048576}"#)
        #expect(post.path.hasSuffix("/response"))
        #expect(post.body.count == 20 * 1_048_576, "20 MiB streamed, no ResponseSizeTooLarge")
        #expect(post.trailers.isEmpty)
    }

    @Test func writingAfterFinishIsRefusedWithoutHanging() throws {
        let (post, log) = try Self.invoke(#"{"stream": 1, "misuse": true}"#)
        #expect(post.text == "chunk 0\n")
        #expect(
            log.contains("write after finish refused: Function.StreamClosed")
                || log.contains("write after finish refused: StreamClosed"),
            "\(log)")
        #expect(!log.contains("was accepted"))
    }

    @Test func bufferedInvocationsOfAStreamingHandlerStayBuffered() throws {
        let (post, _) = try Self.invoke(#"{"hello": "buffered"}"#)
        #expect(
            post.headers["lambda-runtime-function-response-mode"] == nil && post.headers["transfer-encoding"] == nil)
        #expect(post.text == #"{"hello": "buffered"}"#)
    }
}

extension StreamingTests {
    @Test func consecutiveStreamedFailuresEachCarryTrailers() throws {
        let api = try FakeRuntimeAPI()
        for index in 0..<4 { api.enqueue(requestID: "s-\(index)", body: #"{"stream": 4, "fail_after": 2}"#) }
        let runtime = RuntimeHarness(api: api, handler: "probe", registry: FunctionRegistry.all)
        let posts = api.waitForPosts(4, timeout: .seconds(30))
        api.shutDown()
        _ = runtime.wait()
        #expect(posts.count == 4)
        for post in posts {
            #expect(
                post.trailers["lambda-runtime-function-error-type"] == "Function.ProbeFailure",
                "\(post.path): \(post.trailers)")
        }
    }
}
