#if canImport(Glibc)
import Glibc
#endif

/// Reads whole files with plain system calls (the model module and the bootstrap stay free of Foundation).
public enum FileBytes {
    /// The file's bytes, or nil when it does not exist; other failures (not a regular file, unreadable) throw,
    /// naming the file.
    public static func read(_ path: String) throws(ModelFileError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw ModelFileError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFileError("\(path) is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                Glibc.read(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw ModelFileError(
                    "cannot read \(path): \(count == 0 ? "unexpected end" : String(cString: strerror(errno)))")
            }
            offset += count
        }
        return bytes
    }
}
