/// Lambda's application log levels, in increasing severity, as `AWS_LAMBDA_LOG_LEVEL` spells them.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace, debug, info, warn, error, fatal

    /// Parses `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL` (any case); nil for anything else.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = level
    }

    /// The upper-case name used in log lines.
    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        case .fatal: "FATAL"
        }
    }

    /// Orders levels by severity, `trace` lowest.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The two log formats of Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT`).
public enum LogFormat: Sendable {
    /// `timestamp<TAB>requestId<TAB>LEVEL<TAB>message`, as Lambda's managed runtimes print.
    case text
    /// One JSON object per line with Lambda's field names: `timestamp`, `level`, `message`, `requestId`.
    case json
}
