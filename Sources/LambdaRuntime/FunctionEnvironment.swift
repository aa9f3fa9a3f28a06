#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The Lambda environment variables that describe the function, read once at start-up.
///
/// Lambda recycles an environment when its configuration changes, so re-reading these per invocation would only
/// cost time. Values absent from the environment are empty strings (or 0 for the memory size).
public struct FunctionEnvironment: Sendable, Equatable {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    public let name: String
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    public let version: String
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    public let memoryMegabytes: Int
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    public let logGroupName: String
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    public let logStreamName: String
    /// `LAMBDA_TASK_ROOT`: where the function's files (model, config) live.
    public let taskRoot: String
    /// `_HANDLER`: the handler name the function was configured with.
    public let handler: String
    /// `AWS_REGION`.
    public let region: String

    /// Reads the variables through `lookup` (the process environment by default).
    public init(lookup: (String) -> String? = FunctionEnvironment.processVariable) {
        name = lookup("AWS_LAMBDA_FUNCTION_NAME") ?? ""
        version = lookup("AWS_LAMBDA_FUNCTION_VERSION") ?? ""
        memoryMegabytes = lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap { Int($0) } ?? 0
        logGroupName = lookup("AWS_LAMBDA_LOG_GROUP_NAME") ?? ""
        logStreamName = lookup("AWS_LAMBDA_LOG_STREAM_NAME") ?? ""
        taskRoot = lookup("LAMBDA_TASK_ROOT") ?? ""
        handler = lookup("_HANDLER") ?? ""
        region = lookup("AWS_REGION") ?? ""
    }

    /// The process environment's value for `name`, nil when unset.
    public static func processVariable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
