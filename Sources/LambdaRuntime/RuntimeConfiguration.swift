/// The runtime's own settings, read once from the environment at start-up.
///
/// Validation happens here, so a misconfigured environment fails at init with one line naming the variable.
struct RuntimeConfiguration: Sendable {
    /// `AWS_LAMBDA_RUNTIME_API`: `host:port` of the Runtime API.
    let endpoint: String
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances): how many loops to run; 1 when unset.
    let concurrency: Int
    /// `AWS_LAMBDA_LOG_LEVEL`, INFO when unset.
    let logLevel: LogLevel
    /// `AWS_LAMBDA_LOG_FORMAT`, Text when unset.
    let logFormat: LogFormat
    /// Problems found while reading, reported once a Runtime API connection exists.
    let problems: [String]

    /// The most loops one process runs; Lambda allows 1,024 file descriptors and threads per environment.
    static let maximumConcurrency = 512

    init(lookup: (String) -> String?) {
        var problems: [String] = []
        endpoint = lookup("AWS_LAMBDA_RUNTIME_API") ?? ""

        switch lookup("AWS_LAMBDA_MAX_CONCURRENCY") {
        case nil, "":
            concurrency = 1
        case let value?:
            if let parsed = Int(value), parsed >= 1, parsed <= Self.maximumConcurrency {
                concurrency = parsed
            } else {
                problems.append(
                    "AWS_LAMBDA_MAX_CONCURRENCY '\(value)' is not a whole number from 1 to \(Self.maximumConcurrency)")
                concurrency = 1
            }
        }

        switch lookup("AWS_LAMBDA_LOG_LEVEL") {
        case nil, "":
            logLevel = .info
        case let value?:
            if let level = LogLevel(name: value) {
                logLevel = level
            } else {
                problems.append("AWS_LAMBDA_LOG_LEVEL '\(value)' is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL")
                logLevel = .info
            }
        }

        switch lookup("AWS_LAMBDA_LOG_FORMAT")?.lowercased() {
        case nil, "", "text": logFormat = .text
        case "json": logFormat = .json
        case let value?:
            problems.append("AWS_LAMBDA_LOG_FORMAT '\(value)' is not Text or JSON")
            logFormat = .text
        }
        self.problems = problems
    }
}
