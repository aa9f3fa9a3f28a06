import FlintJSON
import LambdaRuntime

/// What invoked the function, told apart by the event's shape: an API Gateway HTTP API (payload 2.0) or Function
/// URL request, an SQS batch, or a direct invocation whose event is the request itself.
///
/// API Gateway REST (payload 1.0) events are not recognised and read as direct requests (whose unknown fields are
/// then refused).
public enum FunctionEvent {
    /// A direct (or Event-type) invocation: the JSON document.
    case direct(JSONValue)
    /// An HTTP request from an HTTP API or a Function URL.
    case http(HTTPRequest)
    /// An SQS batch.
    case sqs([SQSRecord])

    /// Reads an event; anything but a JSON document is an ``InputError``.
    public init(_ event: [UInt8]) throws(InputError) {
        let document: JSONValue
        do { document = try JSONValue(parsing: event) } catch {
            throw InputError("the event is not valid JSON: \(error)")
        }
        if let records = document["Records"]?.array, records.first?["eventSource"]?.string == "aws:sqs" {
            self = .sqs(records.enumerated().map { SQSRecord(index: $0, record: $1) })
        } else if let http = document["requestContext"]?["http"], http["method"]?.string != nil {
            self = .http(HTTPRequest(event: document))
        } else {
            self = .direct(document)
        }
    }
}

/// One HTTP request as API Gateway (payload 2.0) and Function URLs deliver it.
public struct HTTPRequest {
    /// `requestContext.http.method`, upper case.
    public let method: String
    /// `rawPath` (or `requestContext.http.path`).
    public let path: String
    /// Headers, names lower-cased as both services send them.
    public let headers: [String: String]
    /// The body, base64-decoded when `isBase64Encoded`.
    public let body: [UInt8]
    /// Why the body could not be read (an `isBase64Encoded` body that is not base64): a 400 to answer with.
    public let bodyError: InputError?

    /// Reads the request.
    public init(event: JSONValue) {
        let http = event["requestContext"]?["http"]
        method = (http?["method"]?.string ?? "").uppercased()
        path = event["rawPath"]?.string ?? http?["path"]?.string ?? "/"
        var headers: [String: String] = [:]
        for (name, value) in event["headers"]?.object ?? [:] {
            if let text = value.string { headers[name.lowercased()] = text }
        }
        self.headers = headers
        let text = event["body"]?.string ?? ""
        if event["isBase64Encoded"]?.bool == true {
            let decoded = Base64.decode(text)
            body = decoded ?? []
            bodyError =
                decoded == nil ? InputError("the request body is marked isBase64Encoded but is not valid base64") : nil
        } else {
            body = Array(text.utf8)
            bodyError = nil
        }
    }
}

/// One message of an SQS batch.
public struct SQSRecord {
    /// Its place in the batch.
    public let index: Int
    /// `messageId`: what `batchItemFailures` names.
    public let messageID: String
    /// The message body.
    public let body: String

    init(index: Int, record: JSONValue) {
        self.index = index
        messageID = record["messageId"]?.string ?? ""
        body = record["body"]?.string ?? ""
    }
}

/// The checks every HTTP route makes before reading its body: path, method, a readable body within the limit.
enum HTTPRoute {
    /// Throws the 404, 405, 400 or 413 a request gets when it is not a POST to one of `paths` with an acceptable body.
    static func check(_ request: HTTPRequest, paths: [String], limits: InputLimits) throws(InputError) {
        var path = request.path
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        guard paths.contains(path) else {
            throw InputError(
                status: 404, code: "not_found",
                message: "no route for \(request.path); POST \(paths.joined(separator: " or "))")
        }
        guard request.method == "POST" else {
            throw InputError(
                status: 405, code: "method_not_allowed",
                message: "\(request.method) is not allowed on \(path); use POST")
        }
        if let error = request.bodyError { throw error }
        guard request.body.count <= limits.maxRequestBytes else {
            throw InputError(
                status: 413, code: "request_too_large",
                message:
                    "the request body has \(request.body.count) bytes; this function takes at most \(limits.maxRequestBytes)"
            )
        }
    }
}

/// Writes API Gateway / Function URL responses: status, headers and a JSON body carried as a string.
public enum HTTPResponse {
    /// Appends `{"statusCode": status, "headers": {...}, "body": body, "isBase64Encoded": false}`.
    public static func write(status: Int, body: [UInt8], headers: [String: String] = [:], into response: inout [UInt8])
    {
        response.append(contentsOf: #"{"statusCode":"#.utf8)
        JSONText.appendNumber(Double(status), to: &response)
        response.append(contentsOf: #","headers":"#.utf8)
        var all = headers
        if all["content-type"] == nil { all["content-type"] = "application/json" }
        JSONValue.object(all.mapValues { .string($0) }).write(to: &response)
        response.append(contentsOf: #","isBase64Encoded":false,"body":"#.utf8)
        JSONText.appendString(String(decoding: body, as: UTF8.self), to: &response)
        response.append(UInt8(ascii: "}"))
    }

    /// Appends an error response with the error's body (``InputError/body``).
    public static func write(_ error: InputError, into response: inout [UInt8]) {
        write(status: error.status, body: error.body.jsonBytes, headers: errorHeaders(error), into: &response)
    }

    /// The headers of an error response: JSON, and `allow` for a 405.
    static func errorHeaders(_ error: InputError) -> [String: String] {
        error.status == 405
            ? ["content-type": "application/json", "allow": "POST"] : ["content-type": "application/json"]
    }
}
