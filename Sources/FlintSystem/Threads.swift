#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts `body` on a new detached POSIX thread.
///
/// For work that blocks (a runtime loop in libcurl, a model's pages read from disk) and so cannot go to Swift
/// concurrency's cooperative pool, which has one thread per core and would starve. Nothing waits for the thread:
/// `body` keeps alive whatever it uses.
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    defer { pthread_attr_destroy(&attributes) }
    _ = createThread(body, attributes: &attributes)
}

/// pthread_create for a Swift closure (the closure is retained until the thread runs it).
private func createThread(
    _ body: @escaping @Sendable () -> Void, attributes: UnsafePointer<pthread_attr_t>?
) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, attributes,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    precondition(result == 0, "pthread_create failed: \(result)")
    return thread
}

/// A POSIX thread the caller waits for: a streaming handler runs on one while the loop's thread feeds libcurl.
public final class JoinableThread {
    private let thread: pthread_t

    /// Starts `body` now.
    public init(_ body: @escaping @Sendable () -> Void) {
        thread = createThread(body, attributes: nil)
    }

    /// Waits for the body to return.
    public func join() {
        pthread_join(thread, nil)
    }
}
