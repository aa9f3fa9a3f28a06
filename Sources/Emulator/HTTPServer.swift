import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP request, body collected (up to a limit).
struct HTTPMessage {
    let head: HTTPRequestHead
    var body: ByteBuffer
    /// Bytes received, including any beyond the limit.
    var receivedBytes = 0
    /// Whether the body went past the limit (and was cut).
    var isOversize = false

    var path: Substring { head.uri.split(separator: "?", maxSplits: 1).first ?? "" }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
    var bytes: [UInt8] { Array(buffer: body) }
}

/// A request body consumed as it arrives, instead of collected: a runtime's streamed response.
protocol StreamingRequestBody: AnyObject {
    /// The next part of the body.
    func receive(_ chunk: ByteBuffer)
    /// The body ended (with its trailers, if any); answer through `responder`.
    func end(trailers: HTTPHeaders?, responder: HTTPResponder)
    /// The connection closed before the body ended.
    func abort()
}

/// What to send back.
struct HTTPReply {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders = [:]
    var body: ByteBuffer? = nil

    init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(status: HTTPResponseStatus, json: [UInt8], headers: HTTPHeaders = [:]) {
        self.status = status
        self.headers = headers
        self.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        self.body = ByteBuffer(bytes: json)
    }
}

/// Answers one request, now or later (a long-poll); used on the channel's event loop only.
final class HTTPResponder {
    private let context: ChannelHandlerContext
    private let keepAlive: Bool
    private var answered = false
    /// Called if the connection closes before the answer is sent.
    var onClose: (() -> Void)? = nil
    /// Lets the connection's handler forget this responder once it has answered.
    fileprivate var finished: (() -> Void)? = nil

    fileprivate init(context: ChannelHandlerContext, keepAlive: Bool) {
        self.context = context
        self.keepAlive = keepAlive
    }

    fileprivate func connectionClosed() {
        if !answered { onClose?() }
        onClose = nil
    }

    /// Starts a streamed answer: the head now (chunked), then `sendChunk`s, then `sendEnd`.
    func sendHead(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard !answered, !streaming else { return }
        streaming = true
        onClose = nil
        guard context.channel.isActive else { return }
        var head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        head.headers.remove(name: "Content-Length")
        head.headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    }

    /// One part of a streamed answer, flushed at once.
    func sendChunk(_ bytes: ByteBuffer) {
        guard streaming, !answered, context.channel.isActive, bytes.readableBytes > 0 else { return }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(bytes))), promise: nil)
    }

    /// Ends a streamed answer.
    func sendEnd() {
        guard streaming, !answered else { return }
        answered = true
        finished?()
        finished = nil
        guard context.channel.isActive else { return }
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Whether a streamed answer has begun.
    private(set) var streaming = false

    func send(_ reply: HTTPReply) {
        guard !answered else { return }
        if streaming { return sendEnd() }
        answered = true
        onClose = nil
        finished?()
        finished = nil
        guard context.channel.isActive else { return }
        var head = HTTPResponseHead(version: .http1_1, status: reply.status, headers: reply.headers)
        head.headers.replaceOrAdd(name: "Content-Length", value: String(reply.body?.readableBytes ?? 0))
        if !keepAlive { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if let body = reply.body, body.readableBytes > 0 {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Collects requests and hands them to `route` on the event loop; one per connection.
private final class HTTPRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let limit: @Sendable (HTTPRequestHead) -> Int
    private let route: @Sendable (HTTPMessage, HTTPResponder) -> Void
    private let streamer: (@Sendable (HTTPRequestHead) -> (any StreamingRequestBody)?)?
    private var streamingBody: (any StreamingRequestBody)? = nil
    private var message: HTTPMessage? = nil
    private var limitForMessage = 0
    private var responders: [ObjectIdentifier: HTTPResponder] = [:]
    /// Requests a client pipelined behind one not yet answered: HTTP/1.1 answers in order, so they wait.
    /// (NIO's pipelining helper does the same, but toggles read interest with two `epoll_ctl` calls per request.)
    private var waiting: [HTTPMessage] = []
    private var busy = false
    private var context: ChannelHandlerContext? = nil

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    init(
        limit: @escaping @Sendable (HTTPRequestHead) -> Int,
        route: @escaping @Sendable (HTTPMessage, HTTPResponder) -> Void,
        streamer: (@Sendable (HTTPRequestHead) -> (any StreamingRequestBody)?)?
    ) {
        self.limit = limit
        self.route = route
        self.streamer = streamer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let body = streamingBody {
            switch part {
            case .body(let chunk): body.receive(chunk)
            case .end(let trailers):
                streamingBody = nil
                let responder = HTTPResponder(context: context, keepAlive: true)
                body.end(trailers: trailers, responder: responder)
            case .head: break
            }
            return
        }
        if case .head(let head) = part, let body = streamer?(head) {
            streamingBody = body
            return
        }
        switch part {
        case .head(let head):
            limitForMessage = limit(head)
            message = HTTPMessage(head: head, body: context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard var current = message else { return }
            message = nil  // keep the buffer uniquely referenced while appending
            current.receivedBytes += chunk.readableBytes
            if current.receivedBytes > limitForMessage {
                current.isOversize = true
            } else {
                current.body.writeBuffer(&chunk)
            }
            message = current
        case .end:
            guard let current = message else { return }
            message = nil
            if busy {
                waiting.append(current)
            } else {
                start(current, context: context)
            }
        }
    }

    private func start(_ current: HTTPMessage, context: ChannelHandlerContext) {
        busy = true
        // Kept until answered, so a long-poll learns when its connection closes first.
        let responder = HTTPResponder(context: context, keepAlive: current.head.isKeepAlive)
        let key = ObjectIdentifier(responder)
        responders[key] = responder
        responder.finished = { [unowned self] in
            self.responders[key] = nil
            self.busy = false
            if !self.waiting.isEmpty, let context = self.context {
                let next = self.waiting.removeFirst()
                // After the answer's writes, so responses leave in request order.
                context.eventLoop.execute { self.start(next, context: context) }
            }
        }
        route(current, responder)
    }

    func channelInactive(context: ChannelHandlerContext) {
        streamingBody?.abort()
        streamingBody = nil
        for responder in responders.values { responder.connectionClosed() }
        responders.removeAll()
        waiting.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A plain HTTP/1.1 server bound to one event loop, so whatever `route` touches stays on that loop.
enum HTTPServer {
    static func bind(
        on loop: any EventLoop, host: String, port: Int,
        limit: @escaping @Sendable (HTTPRequestHead) -> Int,
        route: @escaping @Sendable (HTTPMessage, HTTPResponder) -> Void,
        streamer: (@Sendable (HTTPRequestHead) -> (any StreamingRequestBody)?)? = nil
    ) -> EventLoopFuture<any Channel> {
        ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPRequestHandler(limit: limit, route: route, streamer: streamer))
                }
            }
            .bind(host: host, port: port)
    }
}
