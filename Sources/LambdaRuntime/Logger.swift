import FlintJSON
import FlintSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes log lines to standard error in Lambda's text or JSON format, each line tagged with the current request id.
///
/// A value type: the runtime hands each invocation a copy carrying that invocation's request id, so nothing is
/// shared or locked. Each line is one `write(2)`, so lines from concurrent loops do not interleave. It does not
/// buffer, rotate or ship logs anywhere: Lambda collects standard error itself.
///
/// ```swift
/// context.logger.info("loaded \(count) items")
/// ```
public struct Logger: Sendable {
    /// Lines below this level are dropped.
    public let level: LogLevel
    /// Text or JSON.
    public let format: LogFormat
    /// The request id every line carries; nil outside an invocation.
    public let requestID: String?
    private let fileDescriptor: Int32

    /// Creates a logger writing to `fileDescriptor` (standard error by default).
    public init(
        level: LogLevel = .info, format: LogFormat = .text, requestID: String? = nil,
        fileDescriptor: Int32 = 2
    ) {
        self.level = level
        self.format = format
        self.requestID = requestID
        self.fileDescriptor = fileDescriptor
    }

    /// The same logger, tagging its lines with `requestID`.
    public func with(requestID: String?) -> Logger {
        Logger(level: level, format: format, requestID: requestID, fileDescriptor: fileDescriptor)
    }

    /// True when a line at `level` would be written; guard expensive messages with it.
    @inlinable public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Logs at TRACE.
    public func trace(_ message: @autoclosure () -> String) { log(.trace, message()) }
    /// Logs at DEBUG.
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    /// Logs at INFO.
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    /// Logs at WARN.
    public func warn(_ message: @autoclosure () -> String) { log(.warn, message()) }
    /// Logs at ERROR.
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    /// Logs at FATAL.
    public func fatal(_ message: @autoclosure () -> String) { log(.fatal, message()) }

    /// Writes one line at `level` if the level is enabled.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        var line: [UInt8] = []
        line.reserveCapacity(128)
        let timestamp = Self.timestamp()
        switch format {
        case .text:
            line.append(contentsOf: timestamp.utf8)
            line.append(0x09)
            line.append(contentsOf: (requestID ?? "-").utf8)
            line.append(0x09)
            line.append(contentsOf: level.name.utf8)
            line.append(0x09)
            line.append(contentsOf: message().utf8)
        case .json:
            line.append(contentsOf: #"{"timestamp":""#.utf8)
            line.append(contentsOf: timestamp.utf8)
            line.append(contentsOf: #"","level":""#.utf8)
            line.append(contentsOf: level.name.utf8)
            line.append(contentsOf: #"","message":"#.utf8)
            JSONText.appendString(message(), to: &line)
            if let requestID {
                line.append(contentsOf: #","requestId":"#.utf8)
                JSONText.appendString(requestID, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
        line.append(0x0A)
        FileDescriptor.writeAll(fileDescriptor, line)
    }

    /// Now, as RFC 3339 UTC with milliseconds: `2026-11-29T01:02:03.456Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(Int(now.tv_nsec) / 1_000_000, 3))Z"
    }
}
