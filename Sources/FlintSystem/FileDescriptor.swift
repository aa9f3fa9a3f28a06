#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Plain POSIX output for modules that cannot afford Foundation (the bootstrap's, the model file's): one loop that
/// writes all of a buffer, so no caller hand-rolls its own.
public enum FileDescriptor {
    /// Writes every byte of `bytes` to `descriptor`, retrying short writes and `EINTR`. Returns nil when all were
    /// written, else the `errno` of the failure. Not atomic: callers that share a descriptor between threads keep
    /// their lines whole with a lock of their own.
    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if written == 0 { return EIO }
            offset += written
        }
        return nil
    }

    /// ``writeAll(_:_:)-(_,UnsafeRawBufferPointer)`` for an array.
    @discardableResult
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { writeAll(descriptor, $0) }
    }
}
