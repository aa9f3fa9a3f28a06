/// One function the emulator serves: which bootstrap to run, with which handler and settings.
public struct FunctionDefinition: Sendable {
    /// The function name callers use in the Invoke path.
    public var name: String
    /// The executable started for each execution environment (a `bootstrap`, or any Runtime API client).
    public var executable: String
    /// Arguments passed to the executable.
    public var arguments: [String]
    /// `_HANDLER`.
    public var handler: String
    /// `LAMBDA_TASK_ROOT`, also the working directory of the environment.
    public var taskRoot: String
    /// The task root as the runtime sees it, when that differs from `taskRoot` (a runtime started in a chroot
    /// sees `/var/task`); `LAMBDA_TASK_ROOT` and `LD_LIBRARY_PATH` use it. Nil: `taskRoot`.
    public var runtimeTaskRoot: String? = nil
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    public var memoryMegabytes: Int
    /// The invocation timeout.
    public var timeout: Duration
    /// Extra environment variables for the function (`--env NAME=VALUE`).
    public var environment: [String: String]
    /// The size of `/tmp` in a chrooted environment, in MB (Lambda's ephemeral storage; 512 by default).
    public var ephemeralStorageMegabytes = 512

    /// Creates a definition; the defaults are Lambda's (128 MB, 3 s).
    public init(
        name: String, executable: String, arguments: [String] = [], handler: String, taskRoot: String,
        memoryMegabytes: Int = 128, timeout: Duration = .seconds(3), environment: [String: String] = [:]
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.handler = handler
        self.taskRoot = taskRoot
        self.memoryMegabytes = memoryMegabytes
        self.timeout = timeout
        self.environment = environment
    }
}

/// What to do with a synchronous invocation when every environment is busy and no more may start.
public enum ThrottlePolicy: String, Sendable, CaseIterable {
    /// Wait for an environment to become free.
    case queue
    /// Answer 429 `TooManyRequestsException` at once, as Lambda does past its concurrency limit.
    case reject
}

/// How the emulator behaves: addresses, scaling and fault limits.
public struct EmulatorOptions: Sendable {
    /// Address of the Invoke API; loopback unless asked otherwise.
    public var host = "127.0.0.1"
    /// Port of the Invoke API (0 picks a free one).
    public var port = 9000
    /// Most execution environments per function.
    public var maxConcurrency = 10
    /// Queue or reject synchronous invocations past `maxConcurrency`.
    public var onThrottle = ThrottlePolicy.queue
    /// Environments started up front (`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`), never reaped.
    public var provisioned = 0
    /// Idle on-demand environments are stopped after this long.
    public var idleTimeout: Duration = .seconds(300)
    /// Invocations one environment serves at once (Lambda Managed Instances when > 1).
    public var perEnvironmentConcurrency = 1
    /// Init longer than this fails the invocation and discards the environment.
    public var initTimeout: Duration = .seconds(10)
    /// Waits before the retries of a failed asynchronous invocation (Lambda retries twice, after about 1 and
    /// 2 minutes; shorter here for local work).
    public var asyncRetryDelays: [Duration] = [.seconds(1), .seconds(2)]
    /// Region in ARNs and `AWS_REGION`.
    public var region = "us-east-1"
    /// Account id in ARNs.
    public var accountID = "012345678912"
    /// Whether to print environments' output and START/END/REPORT lines on standard output.
    public var printsLogs = true
    /// Apply Lambda's streaming bandwidth (first 6 MB at full speed, then 2 MB/s) to streamed answers, as Lambda
    /// does; turn it off for local speed. The 200 MB limit always applies.
    public var limitsStreamingBandwidth = true
    /// Apply Lambda's resource model through cgroups: each environment gets CPU in proportion to its function's
    /// memory (one CPU at 1,769 MB, at most the machine's and 6) and its memory as a ceiling (an environment over
    /// it is killed: `Runtime.OutOfMemory`). Needs root and a writable cgroup hierarchy; where there is none, the
    /// emulator says so in one line and runs unlimited. Off by default in the library; `flint emulate` turns it on.
    public var resourceLimits = false

    /// The defaults above.
    public init() {}
}
