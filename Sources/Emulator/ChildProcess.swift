import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A spawned execution-environment process: its pid, its output as lines, and its exit.
///
/// Started by `flint_spawn`: it inherits nothing but its standard streams (not the emulator's listeners, epoll or
/// timer descriptors), runs in its own process group, is killed when the emulator dies however it dies, and joins
/// its cgroups before it runs. Standard output and standard error are read by one thread each and delivered line
/// by line to `onLine`; the exit status (or terminating signal) is delivered once to `onExit` after both streams
/// are drained. It does not restart anything: the function service decides what an exit means.
final class ChildProcess: @unchecked Sendable {
    /// How the process ended.
    enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        /// Lambda's wording: `exit status 42` or `signal: killed`.
        var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "signal: \(Self.signalName(signal))"
            }
        }

        private static func signalName(_ signal: Int32) -> String {
            switch signal {
            case SIGKILL: "killed"
            case SIGTERM: "terminated"
            case SIGSEGV: "segmentation fault"
            case SIGABRT: "aborted"
            case SIGILL: "illegal instruction"
            case SIGTRAP: "trace/breakpoint trap"
            case SIGBUS: "bus error"
            default: "\(signal)"
            }
        }
    }

    let pid: pid_t
    /// The read ends of the stdout and stderr pipes (for `unreadOutputBytes`; the reader threads own them).
    private let outputDescriptors: [Int32]
    private let readers = OpenReaders()

    /// How many of the two reader threads still hold their pipe open.
    private final class OpenReaders: Sendable {
        let count = Atomic<Int>(2)
        /// Reads whose lines are still being handed on (read from the pipe, not yet given to `onLine`).
        let delivering = Atomic<Int>(0)
    }

    /// Spawns `executable` with exactly `environment`, in `directory`, inside the cgroups whose `cgroup.procs` files
    /// `cgroups` names.
    init(
        executable: String, arguments: [String] = [], environment: [String: String], directory: String?,
        cgroups: [String] = [],
        onLine: @escaping @Sendable (_ line: String, _ isError: Bool) -> Void,
        onExit: @escaping @Sendable (Termination) -> Void
    ) throws {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw EmulatorError.spawnFailed("cannot create pipes: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec for the other children; this one gets its ends as its standard streams.
        for descriptor in outPipe + errPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let procs = cgroups.map { UnsafePointer(strdup($0)) }
        defer {
            for argument in argv { free(argument) }
            for variable in envp { free(variable) }
            for path in procs { free(UnsafeMutablePointer(mutating: path)) }
        }
        var failedStep: UnsafePointer<CChar>? = nil
        let pid = procs.withUnsafeBufferPointer { paths in
            flint_spawn(
                executable, argv, envp, outPipe[1], errPipe[1], directory, paths.baseAddress, Int32(paths.count),
                &failedStep)
        }
        close(outPipe[1])
        close(errPipe[1])
        guard pid > 0 else {
            close(outPipe[0])
            close(errPipe[0])
            let step = failedStep.map { String(cString: $0) } ?? "spawn"
            throw EmulatorError.spawnFailed("cannot start \(executable) (\(step)): \(String(cString: strerror(-pid)))")
        }
        self.pid = pid
        self.outputDescriptors = [outPipe[0], errPipe[0]]

        let drained = DispatchGroup()
        let readers = self.readers
        for (descriptor, isError) in [(outPipe[0], false), (errPipe[0], true)] {
            drained.enter()
            Thread {
                Self.readLines(descriptor, delivering: readers.delivering) { onLine($0, isError) }
                readers.count.subtract(1, ordering: .sequentiallyConsistent)
                close(descriptor)
                drained.leave()
            }.start()
        }
        let childPID = pid
        Thread {
            var status: Int32 = 0
            while waitpid(childPID, &status, 0) < 0 && errno == EINTR {}
            drained.wait()
            let termination: Termination =
                (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
            onExit(termination)
        }.start()
    }

    /// Sends `signal` to the process (harmless once it has exited and been reaped: the pid is checked by group).
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Bytes the process wrote to stdout and stderr that the reader threads have not read yet (0 once they are
    /// done).
    func unreadOutputBytes() -> Int {
        guard readers.count.load(ordering: .sequentiallyConsistent) == 2 else { return 0 }
        // Bytes already read but whose lines are not handed on yet count as unread: the caller waits for them too.
        if readers.delivering.load(ordering: .sequentiallyConsistent) > 0 { return 1 }
        var total = 0
        for descriptor in outputDescriptors {
            var count: Int32 = 0
            if ioctl(descriptor, UInt(FIONREAD), &count) == 0 { total += Int(count) }
        }
        return total
    }

    /// The process's peak resident set (`VmHWM`) in bytes, or nil once it has gone.
    func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kibibytes * 1024
    }

    private static func readLines(_ descriptor: Int32, delivering: borrowing Atomic<Int>, _ deliver: (String) -> Void) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            delivering.add(1, ordering: .sequentiallyConsistent)
            defer { delivering.subtract(1, ordering: .sequentiallyConsistent) }
            pending.append(contentsOf: chunk[..<count])
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                deliver(String(decoding: pending[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            pending.removeFirst(start)
            // A runaway line without newlines is delivered in pieces rather than buffered without bound.
            if pending.count > 256 * 1024 {
                deliver(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
    }
}
