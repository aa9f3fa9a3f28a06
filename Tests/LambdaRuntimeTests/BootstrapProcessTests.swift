import FlintJSON
import Foundation
import Testing

/// The real `bootstrap` executable, spawned as Lambda would, against the fake Runtime API.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct BootstrapProcessTests {
    /// The debug bootstrap that `swift test` builds beside the test bundle.
    static let debugBootstrap: String = {
        let runner =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" {
            directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return directory.appendingPathComponent("bootstrap").path
    }()

    /// The static release bootstrap from deploy/build-bootstrap, when the test command built it.
    static let releaseBootstrap = ProcessInfo.processInfo.environment["FLINT_RELEASE_BOOTSTRAP"]

    struct Finished {
        let status: Int32
        let stderr: String
    }

    /// Starts `binary` with a Lambda-like environment; the returned closure waits for it to exit.
    static func spawn(
        _ binary: String, api: FakeRuntimeAPI?, handler: String, extra: [String: String] = [:]
    ) throws -> () -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var environment = [
            "_HANDLER": handler, "AWS_LAMBDA_FUNCTION_NAME": "probe-fn", "TZ": ":UTC", "PATH": "/usr/bin:/bin",
        ]
        if let api { environment["AWS_LAMBDA_RUNTIME_API"] = api.endpoint }
        environment.merge(extra) { $1 }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Finished(status: process.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
        }
    }

    @Test func probeEchoesFailsReportsItsEnvironmentAndExits() throws {
        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "echo", body: "plain text, not JSON")
        api.enqueue(requestID: "fail", body: #"{"fail": "disk full", "type": "StorageError"}"#)
        api.enqueue(requestID: "env", body: #"{"env": true}"#, headers: ["Lambda-Runtime-Trace-Id": "Root=1-abc"])
        api.enqueue(requestID: "sleep", body: #"{"sleep_ms": 5, "x": [1, 2.5, "three"]}"#)
        api.enqueue(requestID: "exit", body: #"{"exit": 42}"#)
        let wait = try Self.spawn(Self.debugBootstrap, api: api, handler: "probe")
        let finished = wait()
        let posts = api.posts
        #expect(finished.status == 42)
        try #require(posts.count == 4)
        #expect(posts[0].text == "plain text, not JSON")
        #expect(posts[1].headers["lambda-runtime-function-error-type"] == "Function.StorageError")
        #expect(try JSONValue(parsing: posts[1].body)["errorMessage"] == .string("disk full"))
        let environment = try JSONValue(parsing: posts[2].body)
        #expect(environment["_HANDLER"] == .string("probe"))
        #expect(environment["AWS_LAMBDA_FUNCTION_NAME"] == .string("probe-fn"))
        #expect(environment["AWS_LAMBDA_RUNTIME_API"] == .string(api.endpoint))
        #expect(environment["_X_AMZN_TRACE_ID"] == .string("Root=1-abc"))
        #expect(environment["TZ"] == .string(":UTC"))
        #expect(posts[3].text == #"{"sleep_ms": 5, "x": [1, 2.5, "three"]}"#)
        #expect(finished.stderr.contains("exit\tWARN\tprobe: exiting with status 42 as asked"))
    }

    @Test func unknownHandlerExitsNonZeroAfterInitError() throws {
        let api = try FakeRuntimeAPI()
        let finished = try Self.spawn(Self.debugBootstrap, api: api, handler: "nope")()
        #expect(finished.status != 0)
        #expect(api.posts.first?.path == "/2018-06-01/runtime/init/error")
        #expect(api.posts.first?.headers["lambda-runtime-function-error-type"] == "Runtime.NoSuchHandler")
        #expect(
            finished.stderr.contains(
                "no handler named 'nope'; this bootstrap serves: classify, echo, embed, probe, rerank, search"))
    }

    @Test func missingRuntimeAPISaysSoInOneLine() throws {
        let finished = try Self.spawn(Self.debugBootstrap, api: nil, handler: "echo")()
        #expect(finished.status == 1)
        let lines = finished.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("AWS_LAMBDA_RUNTIME_API is not set") == true)
    }

    @Test(
        .enabled(if: releaseBootstrap != nil, "FLINT_RELEASE_BOOTSTRAP is not set: run the tests through deploy/test"))
    func releaseBootstrapIsFullyStaticAndServes() throws {
        let binary = try #require(Self.releaseBootstrap)
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [binary]
        let output = Pipe()
        ldd.standardOutput = output
        ldd.standardError = output
        try ldd.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ldd.waitUntilExit()
        #expect(text.contains("not a dynamic executable"), "ldd says: \(text)")

        let api = try FakeRuntimeAPI()
        api.enqueue(requestID: "r1", body: #"{"ping":"é🚀"}"#)
        let wait = try Self.spawn(binary, api: api, handler: "echo", extra: ["AWS_LAMBDA_LOG_FORMAT": "JSON"])
        let posts = api.waitForPosts(1)
        api.shutDown()
        let finished = wait()
        #expect(posts.first?.text == #"{"ping":"é🚀"}"#)
        #expect(finished.status == 1)
        let line = try JSONValue(parsing: String(finished.stderr.split(separator: "\n").last ?? ""))
        #expect(line["level"] == .string("FATAL"))
    }
}
