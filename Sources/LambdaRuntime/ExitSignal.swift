import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
