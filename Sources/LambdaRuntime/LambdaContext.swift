#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a handler knows about the invocation it is serving and the function it runs in.
///
/// A value: copies are cheap and may be kept after the invocation ends, but `remainingTime` keeps counting against
/// this invocation's deadline. The logger tags every line with the request id.
public struct LambdaContext: Sendable {
    /// The invocation's headers from the Runtime API.
    public let invocation: InvocationMetadata
    /// The function this environment runs (name, version, memory), read once at start.
    public let function: FunctionEnvironment
    /// Logs with this invocation's request id on every line.
    public let logger: Logger

    /// Creates a context; the runtime does this for each invocation, tests may too.
    public init(invocation: InvocationMetadata, function: FunctionEnvironment, logger: Logger) {
        self.invocation = invocation
        self.function = function
        self.logger = logger
    }

    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    public var requestID: String { invocation.requestID }
    /// The deadline as Unix epoch milliseconds.
    public var deadlineMilliseconds: Int64 { invocation.deadlineMilliseconds }
    /// The invoked function ARN.
    public var invokedFunctionARN: String { invocation.invokedFunctionARN }
    /// The X-Ray trace header, if any.
    public var traceID: String? { invocation.traceID }
    /// The client context JSON, if the caller sent one.
    public var clientContext: String? { invocation.clientContext }
    /// The Cognito identity JSON, if any.
    public var cognitoIdentity: String? { invocation.cognitoIdentity }
    /// The tenant id, for tenant-isolated functions.
    public var tenantID: String? { invocation.tenantID }

    /// Time left before the deadline (negative once it has passed), from the wall clock the deadline is set in.
    public var remainingTime: Duration {
        .milliseconds(deadlineMilliseconds - Self.nowMilliseconds())
    }

    /// The wall clock in milliseconds since the epoch, the clock Lambda's deadlines and EMF timestamps use.
    public static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
