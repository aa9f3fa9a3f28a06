import ArgumentParser
import Emulator
import FlintJSON
import Foundation

/// `flint emulate`: runs functions under the local Lambda service.
struct EmulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Run functions under a local Lambda service (Invoke API on 127.0.0.1:9000).",
        discussion: """
            Each function's settings come from functions/<name>/function.json (handler, memoryMB, timeoutSeconds); \
            the flags override them. Invoke with `aws lambda invoke --endpoint-url http://127.0.0.1:9000 \
            --function-name <name> out.json` or deploy/invoke.
            """
    )

    @Argument(help: "Functions to serve (folders under --functions-dir).")
    var functions: [String] = ["echo"]

    @Option(help: "The executable each environment runs.")
    var bootstrap = ".build/lambda/bin/bootstrap"
    @Option(help: "Arguments for the executable (repeatable).")
    var bootstrapArgument: [String] = []
    @Option(help: "Where function folders and their function.json live.")
    var functionsDir = "functions"
    @Option(help: "_HANDLER (default: function.json's handler, else the function name).")
    var handler: String?
    @Option(help: "Memory size in MB (default: function.json's memoryMB, else 128).")
    var memory: Int?
    @Option(help: "Invocation timeout in seconds (default: function.json's timeoutSeconds, else 3).")
    var timeout: Double?
    @Option(name: .customLong("env"), help: "NAME=VALUE for the function's environment (repeatable).")
    var environment: [String] = []

    @Option(help: "Address to bind; loopback unless you mean otherwise.")
    var host = "127.0.0.1"
    @Option(help: "Invoke API port (0 picks a free one).")
    var port = 9000
    @Option(help: "Most execution environments per function.")
    var maxConcurrency = 10
    @Option(help: "Past max-concurrency: queue or reject (429).")
    var onThrottle = "queue"
    @Option(help: "Environments started up front and never reaped.")
    var provisioned = 0
    @Option(help: "Seconds before an idle environment is stopped.")
    var idleTimeout: Double = 300
    @Option(help: "Invocations per environment at once (Managed Instances mode when > 1).")
    var perEnvConcurrency = 1
    @Option(help: "Seconds an environment may spend in init.")
    var initTimeout: Double = 10
    @Option(help: "Comma-separated seconds before each retry of a failed Event invocation.")
    var asyncRetryDelays = "1,2"
    @Flag(help: "Do not print environments' logs and START/END/REPORT lines.")
    var quiet = false
    @Flag(help: "Do not apply Lambda's streaming bandwidth (6 MB at full speed, then 2 MB/s) to streamed answers.")
    var noStreamBandwidthLimit = false
    @Option(
        help: ArgumentHelp(
            "Run each environment chrooted in DIR, as Lambda runs a package: DIR/var/task holds the unzipped zip and is the task root, mounted read-only; DIR/tmp is a tmpfs of the function's ephemeral storage (function.json ephemeralStorageMB, default 512) (needs root).",
            valueName: "DIR"))
    var chroot: String?
    @Flag(
        help:
            "Run environments without Lambda's resource model (by default each gets CPU in proportion to its memory, one CPU at 1,769 MB, and its memory as a ceiling, through cgroups as root)."
    )
    var noResourceLimits = false

    func run() async throws {
        guard let policy = ThrottlePolicy(rawValue: onThrottle) else {
            throw ValidationError("--on-throttle must be queue or reject, not '\(onThrottle)'")
        }
        guard maxConcurrency >= 1, perEnvConcurrency >= 1, provisioned >= 0, idleTimeout > 0, initTimeout > 0 else {
            throw ValidationError(
                "--max-concurrency and --per-env-concurrency must be ≥ 1, --provisioned ≥ 0, timeouts > 0")
        }
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            throw ValidationError("no executable at --bootstrap \(bootstrap) (deploy/build-bootstrap builds it)")
        }
        var options = EmulatorOptions()
        options.host = host
        options.port = port
        options.maxConcurrency = maxConcurrency
        options.onThrottle = policy
        options.provisioned = provisioned
        options.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        options.perEnvironmentConcurrency = perEnvConcurrency
        options.initTimeout = .milliseconds(Int64(initTimeout * 1000))
        options.asyncRetryDelays = try asyncRetryDelays.split(separator: ",").map {
            guard let seconds = Double($0.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
                throw ValidationError("--async-retry-delays takes comma-separated seconds, not '\(asyncRetryDelays)'")
            }
            return .milliseconds(Int64(seconds * 1000))
        }
        options.printsLogs = !quiet
        options.limitsStreamingBandwidth = !noStreamBandwidthLimit
        options.resourceLimits = !noResourceLimits

        let variables = try Self.variables(environment)
        var definitions = try functions.map { try definition(for: $0, variables: variables) }
        var mounts: SandboxMounts? = nil
        defer { mounts?.unmount() }
        if let chroot {
            let root = URL(fileURLWithPath: chroot).standardizedFileURL.path
            guard FileManager.default.isExecutableFile(atPath: root + "/var/task/bootstrap") else {
                throw ValidationError(
                    "--chroot \(chroot): no executable var/task/bootstrap (unzip a package into DIR/var/task)")
            }
            guard getuid() == 0 else { throw ValidationError("--chroot needs root (chroot(2))") }
            do {
                mounts = try SandboxMounts(
                    root: root, ephemeralMegabytes: definitions.map(\.ephemeralStorageMegabytes).max() ?? 512)
            } catch {
                throw ValidationError("\(error)")
            }
            for index in definitions.indices {
                definitions[index].executable = "/usr/sbin/chroot"
                definitions[index].arguments = [root, "/var/task/bootstrap"]
                definitions[index].taskRoot = root + "/var/task"
                definitions[index].runtimeTaskRoot = "/var/task"
            }
        }
        let emulator = Emulator(functions: definitions, options: options)
        if let reason = emulator.resourceLimitsUnavailable {
            FileHandle.standardError.write(
                Data("flint emulate: running without Lambda's CPU and memory limits: \(reason)\n".utf8))
        }

        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler {
                FileHandle.standardError.write(Data("flint emulate: stopping (finishing in-flight invocations)\n".utf8))
                emulator.shutDown()
            }
            source.resume()
            return source
        }
        let names = functions
        let host = self.host
        try await emulator.run { port in
            var lines = ["flint emulate: serving \(names.joined(separator: ", ")) on http://\(host):\(port)"]
            let first = names[0]
            lines.append(
                "  curl -s -XPOST http://\(host):\(port)/2015-03-31/functions/\(first)/invocations -d '{\"hello\":\"world\"}'"
            )
            lines.append(
                "  aws lambda invoke --endpoint-url http://\(host):\(port) --function-name \(first) --payload '{}' out.json"
            )
            lines.append("  curl -s http://\(host):\(port)/stats")
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        withExtendedLifetime(signals) {}
    }

    /// Reads functions/<name>/function.json (if present) and applies the flags over it.
    private func definition(for name: String, variables: [String: String]) throws -> FunctionDefinition {
        try Self.definition(
            for: name, functionsDir: functionsDir, bootstrap: bootstrap, arguments: bootstrapArgument,
            handler: handler, memory: memory, timeout: timeout, variables: variables)
    }

    /// A function's definition from functions/<name>/function.json (handler, memoryMB, timeoutSeconds,
    /// ephemeralStorageMB), with the given values over it: what `flint emulate` and `flint tune` run.
    static func definition(
        for name: String, functionsDir: String, bootstrap: String, arguments: [String] = [], handler: String? = nil,
        memory: Int? = nil, timeout: Double? = nil, variables: [String: String]
    ) throws -> FunctionDefinition {
        let folder = URL(fileURLWithPath: functionsDir).appendingPathComponent(name).standardizedFileURL
        var config: JSONValue = .object([:])
        let configPath = folder.appendingPathComponent("function.json").path
        if let data = FileManager.default.contents(atPath: configPath) {
            do {
                config = try JSONValue(parsing: Array(data))
            } catch {
                throw ValidationError("\(configPath): \(error)")
            }
        }
        let seconds = timeout ?? config["timeoutSeconds"]?.number ?? 3
        guard seconds > 0 && seconds <= 900 else { throw ValidationError("timeout for \(name) must be 0–900 seconds") }
        let megabytes = memory ?? config["memoryMB"]?.integer ?? 128
        guard (128...10_240).contains(megabytes) else {
            throw ValidationError("memory for \(name) must be 128–10240 MB")
        }
        let root =
            FileManager.default.fileExists(atPath: folder.path) ? folder.path : FileManager.default.currentDirectoryPath
        var definition = FunctionDefinition(
            name: name, executable: URL(fileURLWithPath: bootstrap).standardizedFileURL.path,
            arguments: arguments, handler: handler ?? config["handler"]?.string ?? name, taskRoot: root,
            memoryMegabytes: megabytes, timeout: .milliseconds(Int64(seconds * 1000)), environment: variables)
        let storage = config["ephemeralStorageMB"]?.integer ?? 512
        guard (512...10_240).contains(storage) else {
            throw ValidationError("ephemeralStorageMB for \(name) must be 512–10240 MB")
        }
        definition.ephemeralStorageMegabytes = storage
        return definition
    }

    /// `NAME=VALUE` pairs as a dictionary; anything else is a one-line error.
    static func variables(_ pairs: [String]) throws -> [String: String] {
        var variables: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--env takes NAME=VALUE, not '\(pair)'")
            }
            variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return variables
    }
}
