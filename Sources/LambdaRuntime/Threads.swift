import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts `body` on a new detached POSIX thread.
///
/// Runtime loops block in libcurl, so they get threads of their own rather than Swift concurrency's cooperative
/// pool, which has one thread per core and would starve.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
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

/// The exit status of whichever loop ends first; `wait` blocks until one does.
final class ExitSignal: Sendable {
    private let status = Mutex<Int32?>(nil)
    private let ready = Atomic<Bool>(false)

    func record(_ value: Int32) {
        status.withLock { if $0 == nil { $0 = value } }
        ready.store(true, ordering: .releasing)
    }

    func wait() -> Int32 {
        // Loops end only when the environment is broken, so a coarse poll costs nothing that matters.
        while !ready.load(ordering: .acquiring) { usleep(1000) }
        return status.withLock { $0 ?? 1 }
    }
}

/// A POSIX thread the caller waits for: a streaming handler runs on one while the loop's thread feeds libcurl.
final class JoinableThread {
    private let thread: pthread_t

    /// Starts `body` now.
    init(_ body: @escaping @Sendable () -> Void) {
        thread = createThread(body, attributes: nil)
    }

    /// Waits for the body to return.
    func join() {
        pthread_join(thread, nil)
    }
}
