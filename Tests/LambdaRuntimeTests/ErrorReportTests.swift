import FlintJSON
import Testing

@testable import LambdaRuntime

@Suite struct ErrorReportTests {
    @Test(arguments: [
        ("InvalidInput", "Function.InvalidInput"),
        ("invalid input!", "Function.Invalidinput"),
        ("Result<Int>.Error", "Function.ResultIntError"),
        ("数字", "Function.Unhandled"),
        ("", "Function.Unhandled"),
    ])
    func errorTypesTakeTheShapeLambdaValidates(reason: String, expected: String) {
        let report = ErrorReport(category: .function, reason: reason, message: "m")
        #expect(report.errorType == expected)
        #expect(report.errorType.wholeMatch(of: /(Function|Runtime)\.[A-Z][a-zA-Z]+/) != nil)
    }

    @Test func bodyIsTheDocumentedJSON() throws {
        let report = ErrorReport(category: .runtime, reason: "NoSuchHandler", message: "tab\t\"quote\" \u{7} 日本")
        let parsed = try JSONValue(parsing: report.json)
        #expect(
            parsed
                == .object([
                    "errorMessage": .string("tab\t\"quote\" \u{7} 日本"),
                    "errorType": .string("Runtime.NoSuchHandler"),
                    "stackTrace": .array([]),
                ]))
    }

    @Test func logLevelsParseAndOrder() {
        #expect(LogLevel(name: "warn") == .warn)
        #expect(LogLevel(name: "VERBOSE") == nil)
        #expect(LogLevel.trace < .debug && LogLevel.error < .fatal)
    }

    @Test func timestampsAreRFC3339InUTC() {
        let stamp = Logger.timestamp()
        #expect(stamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
    }
}
