import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An in-process stand-in for the Lambda Runtime API: real HTTP/1.1 on a loopback port, keep-alive, one thread per
/// connection. Tests queue events, run a runtime against it, then read what the runtime posted.
///
/// `GET /next` blocks until an event is queued; after `shutDown()` it answers 500, which ends the runtime's loops.
final class FakeRuntimeAPI: @unchecked Sendable {
    struct Event {
        var requestID: String
        var body: [UInt8]
        /// Headers sent with the event; defaults fill in deadline and ARN unless listed in `omit`.
        var headers: [String: String] = [:]
        var omit: Set<String> = []
    }

    struct Request: Sendable {
        let method: String
        let path: String
        /// Header names lower-cased.
        let headers: [String: String]
        let body: [UInt8]
        /// For a chunked body: each chunk with the time it arrived (seconds since 1970), and the trailers.
        var chunks: [(bytes: Int, at: Double)] = []
        var trailers: [String: String] = [:]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// How to answer a POST; nil means the usual 202.
    typealias PostOverride = @Sendable (Request) -> (status: Int, body: String)?

    let port: UInt16
    var endpoint: String { "127.0.0.1:\(port)" }

    private let listener: Int32
    private let state = Mutex(State())
    private let condition = NSCondition()
    private let postOverride: PostOverride?

    private struct State {
        var queue: [Event] = []
        var posts: [Request] = []
        var connections = 0
        var nextCalls = 0
        var shutDown = false
    }

    init(postOverride: PostOverride? = nil) throws {
        self.postOverride = postOverride
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        shutDown()
        // shutdown(2) wakes the thread blocked in accept(2); close alone would leave the port listening.
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A loopback port nothing listens on: bound, never listened, released.
    static func unusedPort() -> UInt16 {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(probe, $0, length)
                _ = getsockname(probe, $0, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    func enqueue(_ event: Event) {
        condition.lock()
        state.withLock { $0.queue.append(event) }
        condition.broadcast()
        condition.unlock()
    }

    func enqueue(requestID: String, body: String, headers: [String: String] = [:]) {
        enqueue(Event(requestID: requestID, body: Array(body.utf8), headers: headers))
    }

    /// Makes every pending and future `/next` answer 500.
    func shutDown() {
        condition.lock()
        state.withLock { $0.shutDown = true }
        condition.broadcast()
        condition.unlock()
    }

    var posts: [Request] { state.withLock { $0.posts } }
    var connections: Int { state.withLock { $0.connections } }
    var nextCalls: Int { state.withLock { $0.nextCalls } }

    /// Waits (up to `timeout`) until `count` POSTs have arrived; returns them all.
    func waitForPosts(_ count: Int, timeout: Duration = .seconds(20)) -> [Request] {
        let deadline = ContinuousClock.now + timeout
        condition.lock()
        defer { condition.unlock() }
        while state.withLock({ $0.posts.count }) < count && ContinuousClock.now < deadline {
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
        return posts
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            state.withLock { $0.connections += 1 }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        while let request = readRequest(connection, &buffer) {
            let (status, headers, body) = respond(to: request)
            var head = "HTTP/1.1 \(status) X\r\nContent-Length: \(body.count)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            guard writeAll(connection, Array(head.utf8) + body) else { return }
        }
    }

    private func respond(to request: Request) -> (Int, [(String, String)], [UInt8]) {
        if request.method == "GET" && request.path.hasSuffix("/runtime/invocation/next") {
            state.withLock { $0.nextCalls += 1 }
            condition.lock()
            defer { condition.unlock() }
            while true {
                let (event, done) = state.withLock { state -> (Event?, Bool) in
                    if !state.queue.isEmpty { return (state.queue.removeFirst(), false) }
                    return (nil, state.shutDown)
                }
                if let event {
                    var headers: [String: String] = [
                        "Lambda-Runtime-Aws-Request-Id": event.requestID,
                        "Lambda-Runtime-Deadline-Ms": String(Int64(Date().timeIntervalSince1970 * 1000) + 3000),
                        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:test",
                        "Content-Type": "application/json",
                    ]
                    headers.merge(event.headers) { $1 }
                    for name in event.omit { headers[name] = nil }
                    return (200, headers.map { ($0.key, $0.value) }, event.body)
                }
                if done {
                    return (
                        500, [], Array(#"{"errorMessage":"fake API shut down","errorType":"InternalServerError"}"#.utf8)
                    )
                }
                condition.wait()
            }
        }
        condition.lock()
        state.withLock { $0.posts.append(request) }
        condition.broadcast()
        condition.unlock()
        if let (status, body) = postOverride?(request) { return (status, [], Array(body.utf8)) }
        return (202, [("Content-Type", "application/json")], Array(#"{"status":"OK"}"#.utf8))
    }

    /// Reads one request (head plus a Content-Length body); nil when the peer closes.
    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int? = nil
        while true {
            if let found = buffer.firstRange(of: separator) {
                headEnd = found.lowerBound
                break
            }
            guard readMore(connection, &buffer) else { return nil }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            return readChunked(
                connection, &buffer, method: String(requestLine[0]), path: String(requestLine[1]), headers: headers)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length {
            guard readMore(connection, &buffer) else { return nil }
        }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }

    /// A chunked body (RFC 9112 §7.1): size lines, data, a zero-size chunk, then trailer fields up to a blank line.
    private func readChunked(
        _ connection: Int32, _ buffer: inout [UInt8], method: String, path: String,
        headers: [String: String]
    ) -> Request? {
        func line() -> String? {
            while true {
                if let end = buffer.firstRange(of: [13, 10]) {
                    let text = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                    buffer.removeFirst(end.upperBound)
                    return text
                }
                guard readMore(connection, &buffer) else { return nil }
            }
        }
        var body: [UInt8] = [], chunks: [(bytes: Int, at: Double)] = [], trailers: [String: String] = [:]
        while true {
            guard let sizeLine = line(), let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                return nil
            }
            if size == 0 { break }
            while buffer.count < size + 2 {
                guard readMore(connection, &buffer) else { return nil }
            }
            body.append(contentsOf: buffer[..<size])
            chunks.append((size, Date().timeIntervalSince1970))
            buffer.removeFirst(size + 2)
        }
        while let field = line(), !field.isEmpty {
            guard let colon = field.firstIndex(of: ":") else { continue }
            trailers[field[..<colon].lowercased()] = field[field.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var request = Request(method: method, path: path, headers: headers, body: body)
        request.chunks = chunks
        request.trailers = trailers
        return request
    }

    private func readMore(_ connection: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(connection, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func writeAll(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }
}
