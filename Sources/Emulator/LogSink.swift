import FlintSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the emulator prints: children's output with an environment prefix, and Lambda's START/END/REPORT lines.
/// One `write(2)` per line under a lock, so lines from concurrent environments never interleave.
final class LogSink: Sendable {
    private let enabled: Bool
    private let lock = Mutex(())

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func print(_ line: String) {
        guard enabled else { return }
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        lock.withLock { _ in FileDescriptor.writeAll(1, bytes) }
    }
}
