import Emulator
import FlintJSON
import Foundation
import Testing

/// Response streaming end to end: the real bootstrap streaming through the emulator to boto3's
/// `invoke_with_response_stream` and to a plain HTTP client on the Function URL path.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(3)))
    struct StreamingInvokeTests {
        static let boto3 = RealClientTests.pythonHas("boto3")

        static func stream(_ port: Int, _ function: String, _ payload: String) throws -> JSONValue {
            let result = RealClientTests.run([
                "/usr/bin/env", "python3", "\(EmulatorHarness.fixtures)/boto3_stream.py",
                "http://127.0.0.1:\(port)", function, payload,
            ])
            #expect(result.status == 0, "boto3_stream.py: \(result.error)")
            return try JSONValue(parsing: result.output)
        }

        @Test(.enabled(if: boto3, "boto3 is not installed (deploy/test installs it)"))
        func boto3SeesChunksAsTheyAreWritten() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe", timeout: .seconds(30))])
            let answer = try Self.stream(emulator.port, "probe", #"{"stream": 5, "chunk_ms": 150}"#)
            let events = answer["events"]?.array ?? []
            let chunks = events.filter { $0["type"] == .string("PayloadChunk") }
            #expect(answer["status"] == .number(200) && chunks.count >= 4, "\(answer)")
            let first = chunks.first?["at"]?.number ?? 0, last = chunks.last?["at"]?.number ?? 0
            #expect(
                last - first > 0.4,
                "the first chunk reached boto3 \(last - first) s before the last (600 ms of writing)")
            #expect(answer["bodyHead"] == .string((0..<5).map { "chunk \($0)\n" }.joined()))
            #expect(events.last?["type"] == .string("InvokeComplete") && answer["complete"]?["ErrorCode"] == nil)
            #expect(answer["complete"]?["LogResult"]?.string != nil, "Tail works on streams too")

            // A failure after the first chunk: the chunks so far, then InvokeComplete with the error.
            let failed = try Self.stream(emulator.port, "probe", #"{"stream": 5, "fail_after": 2}"#)
            #expect(failed["bodyHead"] == .string("chunk 0\nchunk 1\n"))
            #expect(failed["complete"]?["ErrorCode"] == .string("Function.ProbeFailure"), "\(failed)")
            #expect(failed["complete"]?["ErrorDetails"]?.string?.contains("failed after 2 chunks") == true)
            // Before the first chunk: no payload, the error in InvokeComplete.
            let early = try Self.stream(emulator.port, "probe", #"{"stream": 5, "fail_after": 0}"#)
            #expect(
                early["bodyBytes"] == .number(0) && early["complete"]?["ErrorCode"] == .string("Function.ProbeFailure"))
            // A buffered function answer arrives as one chunk.
            let buffered = try Self.stream(emulator.port, "probe", #"{"hello": "buffered"}"#)
            #expect(
                buffered["bodyHead"] == .string(#"{"hello": "buffered"}"#) && buffered["complete"]?["ErrorCode"] == nil)
            try await emulator.stop()
        }

        @Test(.enabled(if: boto3, "boto3 is not installed (deploy/test installs it)"))
        func twentyMegabytesStreamButNotBuffered() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe", timeout: .seconds(60))]) {
                $0.limitsStreamingBandwidth = false
            }
            let answer = try Self.stream(emulator.port, "probe", #"{"stream": 20, "chunk_bytes": 1048576}"#)
            #expect(
                answer["bodyBytes"] == .number(20 * 1_048_576) && answer["complete"]?["ErrorCode"] == nil,
                "\(answer["complete"] ?? .null)")
            // The same answer through the buffered Invoke API is over its 6 MB limit.
            let buffered = try await emulator.invoke("probe", #"{"stream": 20, "chunk_bytes": 1048576}"#)
            #expect(
                buffered.json?["errorType"] == .string("Function.ResponseSizeTooLarge"), "\(buffered.text.prefix(200))")
            try await emulator.stop()
        }

        @Test(.enabled(if: boto3, "boto3 is not installed (deploy/test installs it)"))
        func bandwidthIsCappedAfterTheFirstSixMegabytes() async throws {
            // Lambda's rate, the emulator's default: 6 MiB at once, then 2 MiB/s, so 10 MiB take at least 2 s.
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe", timeout: .seconds(60))])
            let answer = try Self.stream(emulator.port, "probe", #"{"stream": 10, "chunk_bytes": 1048576}"#)
            let chunks = answer["events"]?.array?.filter { $0["type"] == .string("PayloadChunk") } ?? []
            let last = chunks.last?["at"]?.number ?? 0, first = chunks.first?["at"]?.number ?? 0
            #expect(answer["bodyBytes"] == .number(10 * 1_048_576))
            #expect(last - first >= 1.7 && last - first < 6, "10 MiB streamed over \(last - first) s")
            try await emulator.stop()
        }

        static func http(_ port: Int, _ method: String, _ path: String, _ body: String = "") throws -> JSONValue {
            let result = RealClientTests.run([
                "/usr/bin/env", "python3", "\(EmulatorHarness.fixtures)/http_stream.py", String(port), method, path,
                body,
            ])
            #expect(result.status == 0, "http_stream.py: \(result.error)")
            return try JSONValue(parsing: result.output)
        }

        @Test func functionURLRelaysThePreludeAndStreamsTheBody() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe", timeout: .seconds(30))])
            let streamed = try Self.http(
                emulator.port, "POST", "/url/probe/some/path?x=1", #"{"stream": 3, "chunk_ms": 150}"#)
            #expect(
                streamed["status"] == .number(201) && streamed["headers"]?["content-type"] == .string("text/plain"),
                "\(streamed)")
            #expect(streamed["headers"]?["transfer-encoding"] == .string("chunked"))
            #expect(streamed["cookies"] == .array([.string("probe=1; Path=/")]))
            let lines = streamed["lines"]?.array ?? []
            #expect(lines.compactMap { $0["text"]?.string } == ["chunk 0", "chunk 1", "chunk 2"])
            let spread = (lines.last?["at"]?.number ?? 0) - (lines.first?["at"]?.number ?? 0)
            #expect(spread > 0.2, "lines arrived as written, \(spread) s apart")

            // A buffered answer: the function saw a payload 2.0 event (probe echoes it as a 200 JSON body).
            let plain = try Self.http(emulator.port, "GET", "/url/probe/echo?q=2")
            #expect(plain["status"] == .number(200))
            let event = try JSONValue(parsing: plain["lines"]?.array?.compactMap { $0["text"]?.string }.joined() ?? "")
            #expect(event["rawPath"] == .string("/echo") && event["rawQueryString"] == .string("q=2"))
            #expect(event["requestContext"]?["http"]?["method"] == .string("GET") && event["version"] == .string("2.0"))
            let failure = try Self.http(emulator.port, "POST", "/url/probe/x", #"{"stream": 2, "fail_after": 0}"#)
            #expect(failure["status"] == .number(502), "a failure before the first byte is a 502")
            try await emulator.stop()
        }
    }
}
