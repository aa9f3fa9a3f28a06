import Foundation
import LambdaRuntime

/// Runs `LambdaRuntime.run` on its own thread against a fake API, with logs captured in a temporary file.
final class RuntimeHarness: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private var status: Int32 = -1
    let logPath: String
    private let logDescriptor: Int32

    init(api: FakeRuntimeAPI, handler: String = "test", registry: HandlerRegistry, environment: [String: String] = [:])
    {
        logPath = NSTemporaryDirectory() + "flint-runtime-\(UUID().uuidString).log"
        logDescriptor = open(logPath, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        var variables = [
            "AWS_LAMBDA_RUNTIME_API": api.endpoint,
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": "test",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        ]
        variables.merge(environment) { $1 }
        let lookup = variables
        let descriptor = logDescriptor
        Thread { [self] in
            status = LambdaRuntime.run(registry: registry, environment: { lookup[$0] }, logFileDescriptor: descriptor)
            finished.signal()
        }.start()
    }

    /// The log file goes, but its descriptor stays open for the life of the test process: `LambdaRuntime.run`
    /// returns when the first of several loops ends, and the others (threads that a bootstrap's exit would end)
    /// go on to log their own exit. Closed, the descriptor's number was soon another test's socket, and those lines
    /// landed in the middle of an emulator's HTTP traffic (a 400 for a well-formed request, a reply that did not
    /// start with a status line).
    deinit {
        unlink(logPath)
    }

    /// The exit status, or nil if the runtime is still running after `timeout` seconds.
    func wait(timeout: Double = 20) -> Int32? {
        finished.wait(timeout: .now() + timeout) == .success ? status : nil
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A handler built from a closure, for tests.
struct ClosureHandler: LambdaHandler {
    let body: @Sendable ([UInt8], LambdaContext, inout [UInt8]) throws -> Void
    func handle(_ event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        try body(event, context, &response)
    }
}

extension HandlerRegistry {
    /// A registry serving one handler as `test`.
    static func single(
        _ body: @escaping @Sendable ([UInt8], LambdaContext, inout [UInt8]) throws -> Void
    ) -> HandlerRegistry {
        HandlerRegistry(["test": { _ in ClosureHandler(body: body) }])
    }
}
