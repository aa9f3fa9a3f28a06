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
        lock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(1, raw.baseAddress! + offset, raw.count - offset)
                    if written <= 0 { if written < 0 && errno == EINTR { continue } else { return } }
                    offset += written
                }
            }
        }
    }
}
