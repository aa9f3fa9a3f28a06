import FlintSystem

#if !os(Linux)
#error("Flint builds on Linux only: it serves Lambda's Linux environments (see README.md, Platforms)")
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a Lambda execution environment: builds the handler named by `_HANDLER`, then serves invocations from the
/// Runtime API until the service fails.
///
/// Init failures (unknown handler, a throwing factory, bad configuration) are posted to `/runtime/init/error`
/// and `run` returns 1. Handler errors become error responses and the loop carries on. A 500 from the service, or
/// a Runtime API that stays unreachable, ends the loop with one log line and status 1. It never returns 0: Lambda
/// environments end by being frozen or killed. A handler that crashes the process (a trap) is not caught.
///
/// ```swift
/// exit(LambdaRuntime.run(registry: FunctionRegistry.all))
/// ```
public enum LambdaRuntime {
    /// Responses larger than this are refused by Lambda (6 MiB + 100 bytes); the runtime reports it instead.
    public static let maximumResponseBytes = 6 * 1024 * 1024 + 100

    /// Initialises and runs the loop(s); returns the process exit status.
    ///
    /// `environment`, `logFileDescriptor` and `outputFileDescriptor` exist so tests can run a runtime in-process; a
    /// bootstrap passes none of them.
    public static func run(
        registry: HandlerRegistry,
        environment lookup: @escaping @Sendable (String) -> String? = FunctionEnvironment.processVariable,
        logFileDescriptor: Int32 = 2, outputFileDescriptor: Int32 = 1
    ) -> Int32 {
        let configuration = RuntimeConfiguration(lookup: lookup)
        let function = FunctionEnvironment(lookup: lookup)
        let logger = Logger(
            level: configuration.logLevel, format: configuration.logFormat, fileDescriptor: logFileDescriptor)
        signal(SIGPIPE, SIG_IGN)

        guard !configuration.endpoint.isEmpty else {
            logger.fatal("AWS_LAMBDA_RUNTIME_API is not set: this bootstrap must run inside Lambda or an emulator")
            return 1
        }
        let client = RuntimeClient(endpoint: configuration.endpoint)

        let handler: any LambdaHandler
        do {
            let context = HandlerInitContext(
                function: function, logger: logger, outputFileDescriptor: outputFileDescriptor,
                variables: lookup)
            handler = try makeHandler(registry: registry, configuration: configuration, context: context)
        } catch let failure as InitFailure {
            logger.fatal("init failed: \(failure.report.errorType): \(failure.report.errorMessage)")
            do {
                _ = try client.postInitError(report: failure.report)
            } catch {
                logger.fatal("could not report the init error: \(error)")
            }
            return 1
        } catch {
            fatalError("unreachable: makeHandler throws only InitFailure")
        }

        if configuration.concurrency == 1 {
            return RunLoop(
                client: client, handler: handler, function: function, logger: logger, setsTraceVariable: true
            ).run()
        }
        // Lambda Managed Instances: independent loops, each with its own connection; the trace id goes through the
        // context only, since one process-wide variable cannot describe concurrent invocations.
        let firstExit = ExitSignal()
        for _ in 1..<configuration.concurrency {
            let loop = RunLoop(
                client: RuntimeClient(endpoint: configuration.endpoint), handler: handler,
                function: function, logger: logger, setsTraceVariable: false)
            startDetachedThread { firstExit.record(loop.run()) }
        }
        let loop = RunLoop(
            client: client, handler: handler, function: function, logger: logger, setsTraceVariable: false)
        startDetachedThread { firstExit.record(loop.run()) }
        return firstExit.wait()
    }

    private struct InitFailure: Error {
        let report: ErrorReport
    }

    private static func makeHandler(
        registry: HandlerRegistry, configuration: RuntimeConfiguration, context: HandlerInitContext
    ) throws -> any LambdaHandler {
        let function = context.function
        if !configuration.problems.isEmpty {
            throw InitFailure(
                report: ErrorReport(
                    category: .runtime, reason: "ConfigInvalid", message: configuration.problems.joined(separator: "; ")
                ))
        }
        guard let factory = registry.factory(named: function.handler) else {
            let known = registry.names.joined(separator: ", ")
            let message =
                function.handler.isEmpty
                ? "_HANDLER is not set; this bootstrap serves: \(known)"
                : "no handler named '\(function.handler)'; this bootstrap serves: \(known)"
            throw InitFailure(report: ErrorReport(category: .runtime, reason: "NoSuchHandler", message: message))
        }
        do {
            return try factory(context)
        } catch let error as ConfigurationError {
            throw InitFailure(
                report: ErrorReport(category: .runtime, reason: "ConfigInvalid", message: error.description))
        } catch {
            let message = "handler '\(function.handler)' failed to initialise: \(error)"
            throw InitFailure(report: ErrorReport(category: .runtime, reason: "InitError", message: message))
        }
    }
}
