import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for the emulator tests: one request per connection, the answer read to the
/// connection's end and parsed (Content-Length or chunked bodies).
enum HTTPExchange {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(
        port: Int, _ method: String, _ path: String, body: [UInt8], headers: [String: String],
        timeoutSeconds: Int = 60
    ) throws -> EmulatorHarness.Reply {
        // Close-on-exec: the emulators in this process spawn runtimes, which must not inherit this connection.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            throw Failure(description: "connect to \(port): \(String(cString: strerror(errno)))")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let sent = request[offset...].withUnsafeBytes {
                send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
        var answer: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65_536)
        while !complete(answer) {
            let count = recv(socket, &chunk, chunk.count, 0)
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv: \(String(cString: strerror(errno)))") }
            answer.append(contentsOf: chunk[0..<count])
        }
        return try parse(answer)
    }

    /// Whether `answer` holds a whole response: its head, and its body as Content-Length or the last chunk says.
    static func complete(_ answer: [UInt8]) -> Bool {
        guard let end = answer.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: answer[..<end.lowerBound], as: UTF8.self).lowercased()
        let body = answer[end.upperBound...]
        if head.contains("transfer-encoding: chunked") { return body.firstRange(of: Array("0\r\n\r\n".utf8)) != nil }
        for line in head.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
            return body.count >= Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return false
    }

    static func parse(_ answer: [UInt8]) throws -> EmulatorHarness.Reply {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = answer.firstRange(of: separator) else {
            throw Failure(
                description:
                    "no complete head in \(answer.count) bytes: \(String(decoding: answer.prefix(80), as: UTF8.self))")
        }
        let lines = String(decoding: answer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first?.split(separator: " ")
        guard let status, status.count >= 2, status[0].hasPrefix("HTTP/1."), let code = Int(status[1]) else {
            throw Failure(description: "bad status line: \(lines.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(answer[end.upperBound...])
        if headers.first(where: { $0.key.lowercased() == "transfer-encoding" })?.value.lowercased() == "chunked" {
            var decoded: [UInt8] = [], index = 0
            while let lineEnd = body[index...].firstRange(of: Array("\r\n".utf8)),
                let size = Int(String(decoding: body[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0
            {
                decoded.append(contentsOf: body[lineEnd.upperBound..<(lineEnd.upperBound + size)])
                index = lineEnd.upperBound + size + 2
            }
            body = decoded
        } else if let length = headers.first(where: { $0.key.lowercased() == "content-length" }).flatMap({
            Int($0.value)
        }) {
            guard body.count >= length else {
                throw Failure(description: "body of \(body.count) bytes, \(length) announced")
            }
            body = Array(body.prefix(length))
        }
        return EmulatorHarness.Reply(status: code, headers: headers, body: body)
    }
}
