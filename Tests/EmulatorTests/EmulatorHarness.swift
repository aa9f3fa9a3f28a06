import Emulator
import FlintJSON
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs an `Emulator` in-process on a free port, with the debug `bootstrap` that `swift test` builds, and
/// talks to it over real HTTP.
final class EmulatorHarness: Sendable {
    let emulator: Emulator
    let port: Int
    private let task: Task<Void, any Error>

    /// The debug bootstrap beside the test bundle.
    static let bootstrap: String = {
        let runner =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: runner).deletingLastPathComponent().appendingPathComponent("bootstrap").path
    }()

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        .path

    /// A function definition running the bootstrap with `handler`.
    static func function(
        _ name: String, handler: String? = nil, timeout: Duration = .seconds(3),
        environment: [String: String] = [:], taskRoot: String = NSTemporaryDirectory()
    ) -> FunctionDefinition {
        FunctionDefinition(
            name: name, executable: bootstrap, handler: handler ?? name,
            taskRoot: taskRoot, timeout: timeout, environment: environment)
    }

    init(_ functions: [FunctionDefinition], configure: (inout EmulatorOptions) -> Void = { _ in }) async throws {
        var options = EmulatorOptions()
        options.port = 0
        options.printsLogs = ProcessInfo.processInfo.environment["FLINT_TEST_LOGS"] != nil
        options.asyncRetryDelays = [.milliseconds(50), .milliseconds(50)]
        configure(&options)
        let emulator = Emulator(functions: functions, options: options)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        task = Task {
            try await emulator.run {
                continuation.yield($0)
                continuation.finish()
            }
        }
        var bound = 0
        for await port in ports { bound = port }
        self.emulator = emulator
        self.port = bound
    }

    /// Stops the emulator and waits for `run` to return.
    func stop() async throws {
        emulator.shutDown()
        try await task.value
    }

    /// A test that throws before `stop()` still stops its emulator, and so its runtimes: a child left running
    /// would fail the later tests that count this process's `bootstrap` children.
    deinit {
        emulator.shutDown()
    }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue(parsing: body) }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    func invoke(_ function: String, _ body: String, headers: [String: String] = [:]) async throws -> Reply {
        try await invoke(function, Array(body.utf8), headers: headers)
    }

    func invoke(_ function: String, _ body: [UInt8], headers: [String: String] = [:]) async throws -> Reply {
        try await send("POST", "/2015-03-31/functions/\(function)/invocations", body: body, headers: headers)
    }

    func stats(_ function: String) async throws -> JSONValue {
        let reply = try await send("GET", "/stats", body: [], headers: [:])
        return try #require(reply.json?["functions"]?[function])
    }

    /// One request on a connection of its own (HTTP/1.1, `Connection: close`), on a thread of its own, read to the
    /// length its head announces. Not URLSession: on Linux, with dozens of sessions opening connections as the
    /// suites start, it twice reported "Received HTTP/0.9" (a reply not starting with a status line) for the first
    /// case of one suite in six full runs, never with the suite alone. The real clients (boto3, the AWS CLI,
    /// awslambdaric) have tests of their own.
    private func send(_ method: String, _ path: String, body: [UInt8], headers: [String: String]) async throws -> Reply
    {
        let port = port
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try HTTPExchange.run(port: port, method, path, body: body, headers: headers) })
            }
        }
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// Child processes of this test process whose command is `name` (by /proc/PID/stat).
    static func children(named name: String) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return false }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return command == name && fields.count > 1 && Int32(fields[1]) == me && fields[0] != "Z"
        }
    }
}

extension JSONValue {
    subscript(integer key: String) -> Int? { self[key]?.integer }
}
