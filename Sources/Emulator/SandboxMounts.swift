import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The file system a chrooted environment sees, as Lambda gives it: the task root (`DIR/var/task`) mounted
/// read-only, and `/tmp` a tmpfs of the function's ephemeral storage size (512 MB by default), the only place a
/// function may write. Needs root; `unmount()` undoes both (a mount this emulator did not make is left alone).
public final class SandboxMounts: Sendable {
    private let mounted: [String]

    /// Mounts `root`/var/task read-only over itself and a tmpfs of `ephemeralMegabytes` at `root`/tmp; throws a
    /// one-line message when a mount fails.
    public init(root: String, ephemeralMegabytes: Int) throws {
        let task = root + "/var/task", temporary = root + "/tmp"
        var mounted: [String] = []
        func fail(_ what: String) -> EmulatorError {
            let reason = String(cString: strerror(errno))
            for path in mounted.reversed() { umount2(path, Int32(MNT_DETACH)) }
            return EmulatorError.spawnFailed("--chroot: cannot \(what): \(reason)")
        }
        guard mount(task, task, nil, UInt(MS_BIND), nil) == 0 else { throw fail("bind-mount \(task)") }
        mounted.append(task)
        guard mount(task, task, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil) == 0 else {
            throw fail("make \(task) read-only")
        }
        _ = mkdir(temporary, 0o1777)
        guard
            mount("tmpfs", temporary, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "size=\(ephemeralMegabytes)m,mode=1777") == 0
        else { throw fail("mount a tmpfs at \(temporary)") }
        mounted.append(temporary)
        self.mounted = mounted
    }

    /// Undoes the mounts (lazily, so a process still inside does not block it).
    public func unmount() {
        for path in mounted.reversed() { umount2(path, Int32(MNT_DETACH)) }
    }
}
