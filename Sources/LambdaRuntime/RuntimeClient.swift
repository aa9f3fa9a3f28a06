import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One connection to the Lambda Runtime API (2018-06-01) over a single, reused libcurl easy handle.
///
/// Keeps the connection alive across requests and reuses its buffers, so a warm invocation allocates nothing here
/// beyond the strings of its headers. Not thread-safe: each runtime loop owns its own client.
/// `GET /next` has no total timeout because the sandbox may be frozen between events for any length of time;
/// only connecting is bounded.
final class RuntimeClient {
    /// The outcome of a POST: the HTTP status and the service's reply body.
    struct Reply {
        let status: Int
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Where libcurl's callbacks deliver data; its address is the callbacks' `userdata`.
    private final class Sink {
        var body: [UInt8] = []
        var headers = InvocationMetadata.RawHeaders()
    }

    private let handle: UnsafeMutableRawPointer
    private let sink = Sink()
    private let endpoint: String
    private let baseURL: [UInt8]
    private let nextURL: [UInt8]
    private var url: [UInt8] = []
    private let nextHeaders: UnsafeMutablePointer<curl_slist>?
    private let postHeaders: UnsafeMutablePointer<curl_slist>?
    /// libcurl keeps this address and writes into it during every later perform, so it is allocated here and lives
    /// as long as the handle (an array's buffer pointer is valid only inside its closure).
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// How long `next()` waits before each retry after a transport failure; then it gives up.
    private let retryDelaysMilliseconds: [Int]

    /// The event bytes of the last successful `next()`.
    var event: [UInt8] { sink.body }

    /// Prepares a handle for `endpoint` (`host:port`, the value of `AWS_LAMBDA_RUNTIME_API`). Connects lazily.
    init(endpoint: String, retryDelaysMilliseconds: [Int] = [10, 50, 200]) {
        precondition(Self.globalInit, "curl_global_init failed")
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init returned NULL (out of memory)") }
        self.handle = handle
        self.endpoint = endpoint
        self.retryDelaysMilliseconds = retryDelaysMilliseconds
        baseURL = Array("http://\(endpoint)/2018-06-01/runtime/".utf8)
        nextURL = baseURL + Array("invocation/next".utf8) + [0]
        nextHeaders = Self.list(["User-Agent: flint/0.1"])
        // An empty `Expect:` stops libcurl's 100-continue round trip before large bodies.
        postHeaders = Self.list(Self.responseHeaders)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        setLong(CURLOPT_NOSIGNAL, 1)
        setLong(CURLOPT_TCP_NODELAY, 1)
        setLong(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        setLong(CURLOPT_CONNECTTIMEOUT_MS, 1000)
        setLong(CURLOPT_TIMEOUT_MS, 0)
        _ = flint_curl_setopt_pointer(handle, CURLOPT_NOPROXY, "*")
        _ = flint_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        let userdata = Unmanaged.passUnretained(sink).toOpaque()
        _ = flint_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata)
        _ = flint_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata)
        _ = flint_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, Self.onBody)
        _ = flint_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, Self.onHeader)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(nextHeaders)
        curl_slist_free_all(postHeaders)
        errorBuffer.deallocate()
    }

    /// The headers of a plain `/response` post, kept in one list for the life of the handle.
    private static let responseHeaders = ["User-Agent: flint/0.1", "Expect:", "Content-Type: application/octet-stream"]

    /// Long-polls `GET /runtime/invocation/next` and returns its raw headers; the body is then in `event`.
    ///
    /// Transport failures are retried quickly a few times (the service may still be coming up); a 500 means the
    /// environment is broken and is not retried.
    func next() throws(RuntimeError) -> InvocationMetadata.RawHeaders {
        var attempt = 0
        while true {
            setLong(CURLOPT_HTTPGET, 1)
            _ = flint_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, nextHeaders)
            nextURL.withUnsafeBytes { _ = flint_curl_setopt_pointer(handle, CURLOPT_URL, $0.baseAddress) }
            let code = perform()
            if code != CURLE_OK {
                guard attempt < retryDelaysMilliseconds.count else {
                    throw RuntimeError(
                        .apiUnreachable, "GET /next at \(endpoint) failed \(attempt + 1) times: \(curlMessage(code))")
                }
                usleep(useconds_t(retryDelaysMilliseconds[attempt] * 1000))
                attempt += 1
                continue
            }
            switch status() {
            case 200:
                return sink.headers
            case 500...:
                throw RuntimeError(
                    .serviceFailure, "GET /next returned \(status()): \(String(decoding: sink.body, as: UTF8.self))")
            case let other:
                throw RuntimeError(
                    .unexpectedStatus, "GET /next returned \(other): \(String(decoding: sink.body, as: UTF8.self))")
            }
        }
    }

    /// `POST /runtime/invocation/{id}/response` with `body` as-is.
    func postResponse(requestID: String, invocationID: String?, body: [UInt8]) throws(RuntimeError) -> Reply {
        try post(
            path: "invocation/", id: requestID, suffix: "/response", body: body,
            contentType: "application/octet-stream",
            extraHeaders: invocationID.map { ["Lambda-Runtime-Invocation-Id: \($0)"] } ?? [])
    }

    /// `POST /runtime/invocation/{id}/error` with the error document and its type header.
    func postError(requestID: String, invocationID: String?, report: ErrorReport) throws(RuntimeError) -> Reply {
        var extra = ["Lambda-Runtime-Function-Error-Type: \(report.errorType)"]
        if let invocationID { extra.append("Lambda-Runtime-Invocation-Id: \(invocationID)") }
        return try post(
            path: "invocation/", id: requestID, suffix: "/error", body: report.json, contentType: "application/json",
            extraHeaders: extra)
    }

    /// `POST /runtime/invocation/{id}/response` in streaming mode: a chunked body fed from `stream` as the
    /// handler writes, ended by its finish, or by its failure with the error trailers. Returns once the service
    /// answers (after the last chunk).
    func postStreamingResponse(
        requestID: String, invocationID: String?, stream: ResponseStream
    ) throws(RuntimeError) -> Reply {
        // A handle of its own, duplicated from the kept-alive one (same options, its own connection): libcurl
        // 7.88 corrupts a reused handle's state after a chunked upload with trailers (a double free on the next
        // one), and a streamed answer is long enough that one more loopback connect does not matter.
        guard let transfer = curl_easy_duphandle(handle) else {
            throw RuntimeError(.transportFailure, "curl_easy_duphandle failed (out of memory)")
        }
        defer { curl_easy_cleanup(transfer) }
        url.removeAll(keepingCapacity: true)
        url.append(contentsOf: baseURL)
        url.append(contentsOf: "invocation/".utf8)
        Self.appendPercentEncoded(requestID, to: &url)
        url.append(contentsOf: "/response".utf8)
        url.append(0)
        url.withUnsafeBytes { _ = flint_curl_setopt_pointer(transfer, CURLOPT_URL, $0.baseAddress) }
        var lines = [
            "User-Agent: flint/0.1", "Expect:", "Lambda-Runtime-Function-Response-Mode: streaming",
            "Transfer-Encoding: chunked",
            "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
            "Content-Type: "
                + (stream.isHTTP ? "application/vnd.awslambda.http-integration-response" : "application/octet-stream"),
        ]
        if let invocationID { lines.append("Lambda-Runtime-Invocation-Id: \(invocationID)") }
        let headers = Self.list(lines)
        defer { curl_slist_free_all(headers) }
        let source = StreamSource(stream)
        let userdata = Unmanaged.passUnretained(source).toOpaque()
        _ = flint_curl_setopt_pointer(transfer, CURLOPT_HTTPHEADER, headers)
        _ = flint_curl_setopt_long(transfer, CURLOPT_POST, 1)
        _ = flint_curl_setopt_pointer(transfer, CURLOPT_POSTFIELDS, nil)
        _ = flint_curl_setopt_off(transfer, CURLOPT_POSTFIELDSIZE_LARGE, -1)
        _ = flint_curl_setopt_pointer(transfer, CURLOPT_READDATA, userdata)
        _ = flint_curl_setopt_callback(transfer, CURLOPT_READFUNCTION, Self.onRead)
        _ = flint_curl_setopt_pointer(transfer, CURLOPT_TRAILERDATA, userdata)
        _ = flint_curl_setopt_trailer_callback(transfer, Self.onTrailer)
        sink.body.removeAll(keepingCapacity: true)
        errorBuffer[0] = 0
        let code = withExtendedLifetime(source) { curl_easy_perform(transfer) }
        guard code == CURLE_OK else {
            throw RuntimeError(
                .transportFailure,
                "POST invocation/\(requestID)/response (streaming) to \(endpoint) failed: \(curlMessage(code))")
        }
        var status = 0
        _ = flint_curl_getinfo_long(transfer, CURLINFO_RESPONSE_CODE, &status)
        return Reply(status: status, body: sink.body)
    }

    /// What the read and trailer callbacks of one streamed response share.
    private final class StreamSource {
        let stream: ResponseStream
        var pending: [UInt8] = []
        var offset = 0
        var failure: ErrorReport? = nil
        init(_ stream: ResponseStream) { self.stream = stream }
    }

    /// Hands libcurl the next bytes of the stream, blocking until the handler writes; 0 ends the body.
    private static let onRead: flint_curl_data_callback = { buffer, size, count, userdata in
        let source = Unmanaged<StreamSource>.fromOpaque(userdata!).takeUnretainedValue()
        while source.offset == source.pending.count {
            switch source.stream.nextEvent() {
            case .chunk(let bytes):
                source.pending = bytes
                source.offset = 0
            case .finished:
                return 0
            case .failed(let report):
                source.failure = report
                return 0
            }
        }
        let length = min(size * count, source.pending.count - source.offset)
        source.pending.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer!).copyMemory(from: bytes.baseAddress! + source.offset, byteCount: length)
        }
        source.offset += length
        return length
    }

    /// After the last chunk: the error trailers when the handler failed mid-stream.
    private static let onTrailer: flint_curl_trailer_callback = { list, userdata in
        let source = Unmanaged<StreamSource>.fromOpaque(userdata!).takeUnretainedValue()
        if let failure = source.failure {
            list!.pointee = curl_slist_append(list!.pointee, "Lambda-Runtime-Function-Error-Type: \(failure.errorType)")
            list!.pointee = curl_slist_append(
                list!.pointee, "Lambda-Runtime-Function-Error-Body: \(Base64.encode(failure.json))")
        }
        return 0  // CURL_TRAILERFUNC_OK
    }

    /// `POST /runtime/init/error`: initialisation failed; the caller exits afterwards.
    func postInitError(report: ErrorReport) throws(RuntimeError) -> Reply {
        return try post(
            path: "init/error", id: nil, suffix: "", body: report.json, contentType: "application/json",
            extraHeaders: ["Lambda-Runtime-Function-Error-Type: \(report.errorType)"])
    }

    /// Every post sends exactly one Content-Type: without it libcurl would label the body as a form.
    private func post(
        path: String, id: String?, suffix: String, body: [UInt8], contentType: String,
        extraHeaders: [String]
    ) throws(RuntimeError) -> Reply {
        url.removeAll(keepingCapacity: true)
        url.append(contentsOf: baseURL)
        url.append(contentsOf: path.utf8)
        if let id { Self.appendPercentEncoded(id, to: &url) }
        url.append(contentsOf: suffix.utf8)
        url.append(0)
        url.withUnsafeBytes { _ = flint_curl_setopt_pointer(handle, CURLOPT_URL, $0.baseAddress) }

        // The kept list serves a plain response; any other post builds its own.
        let plain = extraHeaders.isEmpty && contentType == "application/octet-stream"
        let headers =
            plain
            ? nil : Self.list(["User-Agent: flint/0.1", "Expect:", "Content-Type: \(contentType)"] + extraHeaders)
        defer { if let headers { curl_slist_free_all(headers) } }
        _ = flint_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers ?? postHeaders)
        setLong(CURLOPT_POST, 1)
        _ = flint_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        // libcurl reads POSTFIELDS without copying, during perform; a NULL pointer would make it read stdin instead,
        // so an empty body still gets an address.
        let code = withUnsafeBytes(of: 0 as UInt8) { empty in
            body.withUnsafeBytes { bytes in
                _ = flint_curl_setopt_pointer(
                    handle, CURLOPT_POSTFIELDS, bytes.count > 0 ? bytes.baseAddress : empty.baseAddress)
                return perform()
            }
        }
        guard code == CURLE_OK else {
            throw RuntimeError(
                .transportFailure, "POST \(path)\(id ?? "")\(suffix) to \(endpoint) failed: \(curlMessage(code))")
        }
        return Reply(status: status(), body: sink.body)
    }

    private func perform() -> CURLcode {
        sink.body.removeAll(keepingCapacity: true)
        sink.headers = InvocationMetadata.RawHeaders()
        errorBuffer[0] = 0
        return curl_easy_perform(handle)
    }

    private func status() -> Int {
        var code = 0
        _ = flint_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func curlMessage(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    private func setLong(_ option: CURLoption, _ value: Int) {
        _ = flint_curl_setopt_long(handle, option, value)
    }

    private static func list(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for line in lines { list = curl_slist_append(list, line) }
        return list
    }

    /// Request ids are UUIDs in practice; anything outside URL-safe ASCII is escaped rather than trusted.
    private static func appendPercentEncoded(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
    }

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_NOTHING)) == CURLE_OK

    private static let onBody: flint_curl_data_callback = { data, size, count, userdata in
        let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
        let length = size * count
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    private static let onHeader: flint_curl_data_callback = { data, size, count, userdata in
        let sink = Unmanaged<Sink>.fromOpaque(userdata!).takeUnretainedValue()
        let line = UnsafeRawBufferPointer(start: data, count: size * count)
        // A status line starts a new response (after a redirect or a 100 Continue): forget earlier headers.
        if line.starts(with: "HTTP/".utf8) {
            sink.headers = InvocationMetadata.RawHeaders()
        } else {
            sink.headers.record(line: line)
        }
        return size * count
    }
}
