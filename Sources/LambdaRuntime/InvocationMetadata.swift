/// What the Runtime API says about one invocation, read from the headers of `GET /runtime/invocation/next`.
///
/// Request id, deadline and invoked function ARN are required; the initializer throws a ``RuntimeError`` naming the
/// missing or malformed header. The other headers are optional and nil when absent or empty.
public struct InvocationMetadata: Sendable, Equatable {
    /// `Lambda-Runtime-Aws-Request-Id`.
    public let requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: the deadline as Unix epoch milliseconds.
    public let deadlineMilliseconds: Int64
    /// `Lambda-Runtime-Invoked-Function-Arn`, including the version or alias the caller used.
    public let invokedFunctionARN: String
    /// `Lambda-Runtime-Trace-Id`: the X-Ray trace header.
    public let traceID: String?
    /// `Lambda-Runtime-Client-Context`: JSON of the mobile client context, when the caller sent one.
    public let clientContext: String?
    /// `Lambda-Runtime-Cognito-Identity`: JSON of the Cognito identity, when present.
    public let cognitoIdentity: String?
    /// `Lambda-Runtime-Aws-Tenant-Id`, for tenant-isolated functions.
    public let tenantID: String?
    /// `Lambda-Runtime-Invocation-Id`, echoed back on `/response` and `/error` when present.
    public let invocationID: String?
    /// `Content-Type` of the event payload.
    public let contentType: String?

    /// Validates the raw header values.
    public init(headers: RawHeaders) throws(RuntimeError) {
        guard let requestID = headers.requestID else {
            throw RuntimeError(
                .nextInvocationMissingRequestID, "/next response has no Lambda-Runtime-Aws-Request-Id header")
        }
        guard let deadline = headers.deadline else {
            throw RuntimeError(
                .nextInvocationMissingDeadline,
                "/next response for \(requestID) has no Lambda-Runtime-Deadline-Ms header")
        }
        guard let deadlineMilliseconds = Int64(deadline), deadlineMilliseconds >= 0 else {
            throw RuntimeError(
                .nextInvocationInvalidDeadline,
                "Lambda-Runtime-Deadline-Ms '\(deadline)' for \(requestID) is not epoch milliseconds")
        }
        guard let arn = headers.invokedFunctionARN else {
            throw RuntimeError(
                .nextInvocationMissingFunctionARN,
                "/next response for \(requestID) has no Lambda-Runtime-Invoked-Function-Arn header")
        }
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = arn
        self.traceID = headers.traceID
        self.clientContext = headers.clientContext
        self.cognitoIdentity = headers.cognitoIdentity
        self.tenantID = headers.tenantID
        self.invocationID = headers.invocationID
        self.contentType = headers.contentType
    }

    /// The Runtime API headers of interest as they arrived, before validation. Empty values count as absent.
    public struct RawHeaders: Sendable {
        /// `Lambda-Runtime-Aws-Request-Id`.
        public var requestID: String?
        /// `Lambda-Runtime-Deadline-Ms`, unparsed.
        public var deadline: String?
        /// `Lambda-Runtime-Invoked-Function-Arn`.
        public var invokedFunctionARN: String?
        /// `Lambda-Runtime-Trace-Id`.
        public var traceID: String?
        /// `Lambda-Runtime-Client-Context`.
        public var clientContext: String?
        /// `Lambda-Runtime-Cognito-Identity`.
        public var cognitoIdentity: String?
        /// `Lambda-Runtime-Aws-Tenant-Id`.
        public var tenantID: String?
        /// `Lambda-Runtime-Invocation-Id`.
        public var invocationID: String?
        /// `Content-Type` of the event.
        public var contentType: String?

        /// No headers yet.
        public init() {}

        /// Records one `Name: value` header line (name matched case-insensitively; unknown names ignored).
        public mutating func record(line: UnsafeRawBufferPointer) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
            guard let field = Self.index(of: name) else { return }
            var start = colon + 1
            var end = line.count
            while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
            while end > start, line[end - 1] == 0x0A || line[end - 1] == 0x0D || line[end - 1] == 0x20 { end -= 1 }
            let value =
                start < end ? String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self) : nil
            store(value, at: field)
        }

        /// Lower-case names of the headers kept, in the order `store(_:at:)` numbers them.
        private static let names: [[UInt8]] = [
            "lambda-runtime-aws-request-id", "lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn",
            "lambda-runtime-trace-id", "lambda-runtime-client-context", "lambda-runtime-cognito-identity",
            "lambda-runtime-aws-tenant-id", "lambda-runtime-invocation-id", "content-type",
        ].map { Array($0.utf8) }

        private mutating func store(_ value: String?, at index: Int) {
            switch index {
            case 0: requestID = value
            case 1: deadline = value
            case 2: invokedFunctionARN = value
            case 3: traceID = value
            case 4: clientContext = value
            case 5: cognitoIdentity = value
            case 6: tenantID = value
            case 7: invocationID = value
            default: contentType = value
            }
        }

        private static func index(of name: UnsafeRawBufferPointer) -> Int? {
            for (index, known) in names.enumerated() where known.count == name.count {
                var equal = true
                for offset in 0..<name.count {
                    var byte = name[offset]
                    if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
                    if byte != known[offset] {
                        equal = false
                        break
                    }
                }
                if equal { return index }
            }
            return nil
        }
    }
}
