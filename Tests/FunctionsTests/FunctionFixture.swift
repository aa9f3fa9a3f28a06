import FlintJSON
import FlintModel
import Foundation
import Functions
import LambdaRuntime
import Synchronization
import TestSupport

/// Functions built in this process as a bootstrap builds them (registry, function.json, init context), over the
/// tiny random-weight BERT (32 wide, vocabulary w0 … w39), and invoked without a Runtime API.
enum FunctionFixture {
    static let tinyBert = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../EmbedderTests/Fixtures/tiny-bert").standardizedFileURL.path

    /// The tiny model quantized once for the whole run.
    static let modelPath: String = {
        let path = NSTemporaryDirectory() + "flint-functions-tiny-\(getpid()).flint"
        try! ModelWriter.write(try! Quantizer.quantize(directory: tinyBert, modelName: "tiny").bytes, to: path)
        return path
    }()

    /// Task checkpoints (`Tests/TaskFixtures`) quantized to int8, each once for the whole run.
    static func taskModel(_ name: String) -> String {
        taskModels.withLock { paths in
            if let path = paths[name] { return path }
            let path = NSTemporaryDirectory() + "flint-functions-\(name)-\(getpid()).flint"
            let bytes = try! Quantizer.quantize(directory: TaskFixtures.checkpoint(name), modelName: name).bytes
            try! ModelWriter.write(bytes, to: path)
            paths[name] = path
            return path
        }
    }
    private static let taskModels = Mutex<[String: String]>([:])

    /// A task root with `configuration` as its function.json; the model comes through FLINT_MODEL.
    static func taskRoot(_ configuration: [String: JSONValue]) throws -> String {
        let root = NSTemporaryDirectory() + "flint-functions-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data(JSONValue.object(configuration).jsonBytes).write(to: URL(fileURLWithPath: root + "/function.json"))
        return root
    }

    /// The handler the registry builds for `name`; `variables` are the process environment it sees, and its EMF
    /// lines go to `output` (default: nowhere).
    static func handler(
        _ name: String, configuration: [String: JSONValue] = [:], variables: [String: String] = [:],
        output: Int32? = nil
    ) throws -> any LambdaHandler {
        let root = try taskRoot(configuration)
        var all = ["FLINT_MODEL": modelPath]
        all.merge(variables) { $1 }
        let environment = FunctionEnvironment { name in
            ["LAMBDA_TASK_ROOT": root, "AWS_LAMBDA_FUNCTION_NAME": name, "_HANDLER": name][name]
        }
        let snapshot = all
        let context = HandlerInitContext(
            function: environment, logger: Logger(level: .fatal, fileDescriptor: 2),
            outputFileDescriptor: output ?? devNull, variables: { snapshot[$0] })
        guard let factory = FunctionRegistry.all.factory(named: name) else { fatalError("no function \(name)") }
        return try factory(context)
    }

    static let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)

    /// A context for one invocation.
    static func context(_ requestID: String = "req-1") throws -> LambdaContext {
        var headers = InvocationMetadata.RawHeaders()
        headers.requestID = requestID
        headers.deadline = String(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)
        headers.invokedFunctionARN = "arn:aws:lambda:local:000000000000:function:test"
        return LambdaContext(
            invocation: try InvocationMetadata(headers: headers), function: FunctionEnvironment { _ in nil },
            logger: Logger(level: .fatal, fileDescriptor: 2))
    }

    /// The buffered answer to `event`, parsed (a streamed one is collected whole).
    static func invoke(_ handler: any LambdaHandler, _ event: String) throws -> JSONValue {
        try JSONValue(parsing: invokeBytes(handler, event))
    }

    static func invokeBytes(_ handler: any LambdaHandler, _ event: String) throws -> [UInt8] {
        var response: [UInt8] = []
        try handler.handle(Array(event.utf8), context: context(), response: &response)
        return response
    }

    /// An HTTP API (payload 2.0) / Function URL event.
    static func http(
        _ body: String, path: String = "/v1/embeddings", method: String = "POST", base64: Bool = false
    ) -> String {
        let text = base64 ? Data(body.utf8).base64EncodedString() : body
        return String(
            decoding: JSONValue.object([
                "version": .string("2.0"), "rawPath": .string(path),
                "requestContext": .object(["http": .object(["method": .string(method), "path": .string(path)])]),
                "headers": .object(["content-type": .string("application/json")]),
                "body": .string(text), "isBase64Encoded": .bool(base64),
            ]).jsonBytes, as: UTF8.self)
    }

    /// An SQS batch with these bodies (message ids m0, m1, ...).
    static func sqs(_ bodies: [String]) -> String {
        String(
            decoding: JSONValue.object([
                "Records": .array(
                    bodies.enumerated().map { index, body in
                        .object([
                            "messageId": .string("m\(index)"), "eventSource": .string("aws:sqs"), "body": .string(body),
                        ])
                    })
            ]).jsonBytes, as: UTF8.self)
    }
}
