import FlintJSON

/// The JSON error document Lambda expects on `/error` and `/init/error`:
/// `{"errorMessage": ..., "errorType": ..., "stackTrace": []}`, written without Foundation.
///
/// `errorType` always has the `Category.Reason` shape the platform validates (`Function.X` or `Runtime.X`, with
/// `X` matching `[A-Z][a-zA-Z]+`); otherwise the platform would record `Runtime.Unknown`.
struct ErrorReport: Sendable {
    let errorType: String
    let errorMessage: String

    init(category: Category, reason: String, message: String) {
        self.errorType = category.rawValue + "." + Self.cleanReason(reason)
        self.errorMessage = message
    }

    enum Category: String, Sendable {
        case function = "Function"
        case runtime = "Runtime"
    }

    /// What a thrown error becomes: ``HandlerError`` keeps its type, anything else is named after its Swift type.
    static func from(handlerError error: any Error) -> ErrorReport {
        if let error = error as? HandlerError {
            return ErrorReport(category: .function, reason: error.type, message: error.message)
        }
        return ErrorReport(
            category: .function, reason: String(describing: Swift.type(of: error)), message: String(describing: error))
    }

    /// Keeps ASCII letters only and upper-cases the first; an empty result becomes `Unhandled`.
    static func cleanReason(_ reason: String) -> String {
        var letters = reason.unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }
        guard let first = letters.first else { return "Unhandled" }
        letters.replaceSubrange(
            letters.startIndex...letters.startIndex, with: String(first).uppercased().unicodeScalars)
        return String(letters)
    }

    /// The JSON body.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(errorMessage.utf8.count + errorType.utf8.count + 64)
        out.append(contentsOf: #"{"errorMessage":"#.utf8)
        JSONText.appendString(errorMessage, to: &out)
        out.append(contentsOf: #","errorType":"#.utf8)
        JSONText.appendString(errorType, to: &out)
        out.append(contentsOf: #","stackTrace":[]}"#.utf8)
        return out
    }
}
