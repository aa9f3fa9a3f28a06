import FlintJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The writer a ``LambdaStreamingHandler`` answers through: each `write` goes to the Runtime API as a chunk as
/// soon as the connection takes it (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked), so callers see
/// the first bytes before the answer is complete, and the answer may exceed 6 MB.
///
/// `writeHTTPPrelude` (first, before any `write`) turns the stream into a Function URL / API Gateway HTTP response:
/// status, headers and cookies, then the body. `finish()` ends the body; the runtime calls it if the handler
/// returns without doing so. An error the handler throws after the first chunk ends the body with the
/// `Lambda-Runtime-Function-Error-Type` / `-Body` trailers, which Lambda reports to the caller; before the first
/// chunk it becomes an ordinary `/error`. Writing after `finish()`, or a prelude after the body started, throws a
/// ``HandlerError`` rather than hanging. `write` blocks while 1 MiB is waiting to be sent (backpressure).
public final class ResponseStream: @unchecked Sendable {
    // @unchecked: `state` is only touched with `lock` held.
    /// The most bytes waiting to be sent before `write` waits.
    static let bufferLimit = 1 << 20

    /// Where the stream is, as the sending side sees it.
    enum Event {
        case chunk([UInt8])
        case finished
        case failed(ErrorReport)
    }

    private struct State {
        var queue: [[UInt8]] = []
        var queued = 0
        var started = false
        var finished = false
        var failure: ErrorReport? = nil
        var prelude = false
        var bytesWritten = 0
    }

    private var state = State()
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        changed.deallocate()
    }

    /// Runs `body` on the state with the lock held, waking waiters afterwards.
    private func update<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(lock)
        defer {
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(lock)
        }
        return try body(&state)
    }

    /// Waits, lock held, until `ready` says the state is ready, then runs `body` on it.
    private func waitThen<T, E: Error>(
        until ready: (State) throws(E) -> Bool, _ body: (inout State) -> T
    ) throws(E) -> T {
        pthread_mutex_lock(lock)
        defer {
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(lock)
        }
        while !(try ready(state)) { pthread_cond_wait(changed, lock) }
        return body(&state)
    }

    /// Sends `bytes` as the next part of the body.
    public func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws {
        let chunk = Array(bytes)
        try waitThen(until: { state throws(HandlerError) -> Bool in
            guard !state.finished else {
                throw HandlerError(type: "StreamClosed", message: "write after the response stream was finished")
            }
            return state.queued < Self.bufferLimit
        }) { state in
            guard !chunk.isEmpty else { return }
            state.started = true
            state.queue.append(chunk)
            state.queued += chunk.count
            state.bytesWritten += chunk.count
        }
    }

    /// Sends `text` as UTF-8.
    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Makes this an HTTP response (Function URL / API Gateway streaming): the JSON prelude with `statusCode`,
    /// `headers` and `cookies`, then eight NUL bytes, then whatever is written. Only before the first `write`.
    public func writeHTTPPrelude(statusCode: Int, headers: [String: String] = [:], cookies: [String] = []) throws {
        var prelude: [UInt8] = []
        JSONValue.object([
            "statusCode": .number(Double(statusCode)),
            "headers": .object(headers.mapValues { .string($0) }),
            "cookies": .array(cookies.map { .string($0) }),
        ]).write(to: &prelude)
        prelude.append(contentsOf: [UInt8](repeating: 0, count: 8))
        try update { state throws(HandlerError) in
            guard !state.started, !state.finished, !state.prelude else {
                throw HandlerError(
                    type: "StreamClosed", message: "the HTTP prelude must come first, once, before any write")
            }
            state.prelude = true
            state.started = true
            state.queue.append(prelude)
            state.queued += prelude.count
        }
    }

    /// Ends the body. Further writes throw; a second `finish` does nothing.
    public func finish() {
        update { $0.finished = true }
    }

    /// Ends the stream with an error (the runtime's side of a handler that threw).
    func fail(_ report: ErrorReport) {
        update { state in
            if !state.finished { state.failure = report }
            state.finished = true
        }
    }

    /// Bytes written so far (prelude excluded).
    public var bytesWritten: Int { update { $0.bytesWritten } }

    /// Whether the response is an HTTP integration response (a prelude was written).
    var isHTTP: Bool { update { $0.prelude } }

    /// Blocks until the stream has something to say: the queued bytes (merged), its end, or its failure.
    func nextEvent() -> Event {
        waitThen(until: { !$0.queue.isEmpty || $0.finished }) { state in
            if !state.queue.isEmpty {
                var merged: [UInt8] = []
                merged.reserveCapacity(state.queued)
                for part in state.queue { merged.append(contentsOf: part) }
                state.queue.removeAll(keepingCapacity: true)
                state.queued = 0
                return .chunk(merged)
            }
            return state.failure.map { .failed($0) } ?? .finished
        }
    }

    /// How the stream ended, without waiting: `.failed` after a failure, else `.finished`.
    func nextEventIfFinished() -> Event {
        update { state in state.failure.map { .failed($0) } ?? .finished }
    }

    /// Waits until the handler has written something or ended, without taking it: what decides between a
    /// streamed response and a plain `/error`.
    func waitForStart() -> (started: Bool, failure: ErrorReport?) {
        waitThen(until: { $0.started || $0.finished }) { ($0.started, $0.failure) }
    }
}
