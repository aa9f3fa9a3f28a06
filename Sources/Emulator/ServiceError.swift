import FlintJSON
import NIOCore
import NIOHTTP1

/// An error of the Lambda service itself (not of the function), with Lambda's name and HTTP status.
///
/// Rendered as AWS's REST-JSON errors are: the name in `X-Amzn-ErrorType` and the body
/// `{"Type": "User", "message": ...}`, so the AWS CLI and boto3 raise the matching exception.
public struct ServiceError: Error, Sendable, Equatable {
    /// Lambda's exception name, e.g. `ResourceNotFoundException`.
    public let name: String
    /// The HTTP status.
    public let status: Int
    /// The message.
    public let message: String

    static func notFound(_ arn: String) -> ServiceError {
        ServiceError(name: "ResourceNotFoundException", status: 404, message: "Function not found: \(arn)")
    }
    static func tooLarge(_ size: Int, limit: Int) -> ServiceError {
        ServiceError(
            name: "RequestEntityTooLargeException", status: 413,
            message: "\(size) byte payload is too large for the invocation type (limit \(limit) bytes)")
    }
    static let throttled = ServiceError(name: "TooManyRequestsException", status: 429, message: "Rate Exceeded.")
    static func invalidRequest(_ message: String) -> ServiceError {
        ServiceError(name: "InvalidRequestContentException", status: 400, message: message)
    }
    static let shuttingDown = ServiceError(
        name: "ServiceException", status: 503, message: "The emulator is shutting down.")
    static func notFoundPath(_ path: String) -> ServiceError {
        ServiceError(name: "UnknownOperationException", status: 404, message: "No such operation: \(path)")
    }

    var reply: HTTPReply {
        var body: [UInt8] = []
        body.append(contentsOf: #"{"Type":"User","message":"#.utf8)
        JSONText.appendString(message, to: &body)
        if name == "TooManyRequestsException" {
            body.append(contentsOf: #","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded""#.utf8)
        }
        body.append(UInt8(ascii: "}"))
        return HTTPReply(
            status: HTTPResponseStatus(statusCode: status), json: body, headers: ["X-Amzn-ErrorType": name])
    }
}
