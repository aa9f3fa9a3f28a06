import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Lambda's resource model, applied to one emulator's environments through cgroups: the function's memory size
/// buys CPU in proportion (one full CPU at 1,769 MB, capped at this machine's CPUs and at Lambda's 6) and caps memory
/// (the kernel kills an environment at the limit, which the emulator reports as `Runtime.OutOfMemory`).
///
/// Uses the unified (v2) hierarchy where it is mounted at /sys/fs/cgroup with the cpu and memory controllers,
/// else the v1 `cpu` and `memory` hierarchies. Each emulator gets a parent group `flint-<pid>` and each environment
/// a group of its own inside it, removed when the environment ends. Nothing here runs unless the emulator was asked
/// for limits and the hierarchy is writable (``open()`` says why not in one line).
public final class ResourceLimits: Sendable {
    /// Where the groups live.
    enum Hierarchy: Sendable, Equatable {
        /// The unified hierarchy: one group holds both limits.
        case unified(parent: String)
        /// v1: a group under `cpu` and one under `memory`.
        case split(cpu: String, memory: String)
    }

    /// One environment's groups.
    struct Group: Sendable {
        /// The group directories (one for v2, two for v1).
        let directories: [String]
        /// Their `cgroup.procs` files, for the child to join before it runs.
        let procs: [String]
        let hierarchy: Hierarchy
        let memoryDirectory: String

        /// Whether the kernel killed a process of this group for memory (`oom_kill` in memory.events or
        /// memory.oom_control).
        var killedForMemory: Bool {
            let file = hierarchy.isUnified ? "memory.events" : "memory.oom_control"
            guard let text = try? String(contentsOfFile: memoryDirectory + "/" + file, encoding: .utf8) else {
                return false
            }
            for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
                return (Int(line.split(separator: " ").last ?? "") ?? 0) > 0
            }
            return false
        }

        /// The group's peak memory use in bytes (memory.peak, memory.max_usage_in_bytes), when the kernel says.
        var peakBytes: Int? {
            let file = hierarchy.isUnified ? "memory.peak" : "memory.max_usage_in_bytes"
            return (try? String(contentsOfFile: memoryDirectory + "/" + file, encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }

        /// Removes the groups (their processes have exited); retried briefly while the kernel still counts them.
        func remove() {
            for directory in directories.reversed() {
                for _ in 0..<50 {
                    if rmdir(directory) == 0 || errno == ENOENT { break }
                    usleep(10_000)
                }
            }
        }
    }

    let hierarchy: Hierarchy
    /// CPUs this machine offers (the quota's cap, with Lambda's 6).
    let machineCPUs: Int

    private init(hierarchy: Hierarchy, machineCPUs: Int) {
        self.hierarchy = hierarchy
        self.machineCPUs = machineCPUs
    }

    /// The emulator's parent groups, created; or the one line that says why limits cannot be applied here.
    static func open(root: String = "/sys/fs/cgroup") -> Result<ResourceLimits, ResourceLimitsUnavailable> {
        let name = "flint-\(getpid())"
        let cpus = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let manager = FileManager.default
        let hierarchy: Hierarchy
        if manager.fileExists(atPath: root + "/cgroup.controllers") {
            let controllers = (try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? ""
            guard controllers.contains("cpu"), controllers.contains("memory") else {
                return .failure(.init("the cgroup v2 hierarchy at \(root) lacks the cpu or memory controller"))
            }
            let parent = root + "/" + name
            guard mkdir(parent, 0o755) == 0 || errno == EEXIST else { return .failure(.denied(parent)) }
            // Children of the parent may use both controllers.
            guard write("+cpu +memory", to: parent + "/cgroup.subtree_control") else {
                rmdir(parent)
                return .failure(.denied(parent + "/cgroup.subtree_control"))
            }
            hierarchy = .unified(parent: parent)
        } else if manager.fileExists(atPath: root + "/cpu/cpu.cfs_quota_us"),
            manager.fileExists(atPath: root + "/memory/memory.limit_in_bytes")
        {
            let cpu = root + "/cpu/" + name, memory = root + "/memory/" + name
            guard mkdir(cpu, 0o755) == 0 || errno == EEXIST else { return .failure(.denied(cpu)) }
            guard mkdir(memory, 0o755) == 0 || errno == EEXIST else {
                rmdir(cpu)
                return .failure(.denied(memory))
            }
            hierarchy = .split(cpu: cpu, memory: memory)
        } else {
            return .failure(.init("no cgroup hierarchy with the cpu and memory controllers at \(root)"))
        }
        return .success(ResourceLimits(hierarchy: hierarchy, machineCPUs: cpus))
    }

    /// The CPU share a memory size buys: memory / 1,769 MB of one CPU, at most this machine's CPUs and 6.
    public static func cpuShare(memoryMegabytes: Int, machineCPUs: Int) -> Double {
        min(Double(memoryMegabytes) / 1769, Double(min(machineCPUs, 6)))
    }

    /// A new group for environment `name` with `memoryMegabytes`' CPU share and memory ceiling.
    func group(named name: String, memoryMegabytes: Int) throws -> Group {
        let period = 100_000
        let quota = max(
            1000, Int(Self.cpuShare(memoryMegabytes: memoryMegabytes, machineCPUs: machineCPUs) * Double(period)))
        let bytes = memoryMegabytes * 1_048_576
        switch hierarchy {
        case .unified(let parent):
            let directory = parent + "/" + name
            try Self.make(directory)
            try Self.set("\(quota) \(period)", directory + "/cpu.max")
            try Self.set(String(bytes), directory + "/memory.max")
            _ = Self.write("0", to: directory + "/memory.swap.max")
            return Group(
                directories: [directory], procs: [directory + "/cgroup.procs"], hierarchy: hierarchy,
                memoryDirectory: directory)
        case .split(let cpu, let memory):
            let cpuDirectory = cpu + "/" + name, memoryDirectory = memory + "/" + name
            try Self.make(cpuDirectory)
            try Self.make(memoryDirectory)
            try Self.set(String(period), cpuDirectory + "/cpu.cfs_period_us")
            try Self.set(String(quota), cpuDirectory + "/cpu.cfs_quota_us")
            try Self.set(String(bytes), memoryDirectory + "/memory.limit_in_bytes")
            _ = Self.write(String(bytes), to: memoryDirectory + "/memory.memsw.limit_in_bytes")
            _ = Self.write("0", to: memoryDirectory + "/memory.swappiness")
            return Group(
                directories: [cpuDirectory, memoryDirectory],
                procs: [cpuDirectory + "/cgroup.procs", memoryDirectory + "/cgroup.procs"], hierarchy: hierarchy,
                memoryDirectory: memoryDirectory)
        }
    }

    /// Removes the emulator's parent groups (every environment's group is gone by then).
    func close() {
        switch hierarchy {
        case .unified(let parent): rmdir(parent)
        case .split(let cpu, let memory):
            rmdir(cpu)
            rmdir(memory)
        }
    }

    private static func make(_ directory: String) throws {
        guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
            throw EmulatorError.spawnFailed("cannot create cgroup \(directory): \(String(cString: strerror(errno)))")
        }
    }

    private static func set(_ value: String, _ file: String) throws {
        guard write(value, to: file) else {
            throw EmulatorError.spawnFailed("cannot write \(value) to \(file): \(String(cString: strerror(errno)))")
        }
    }

    @discardableResult
    private static func write(_ value: String, to file: String) -> Bool {
        let descriptor = Glibc.open(file, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { Glibc.close(descriptor) }
        let bytes = Array(value.utf8)
        return Glibc.write(descriptor, bytes, bytes.count) == bytes.count
    }
}

/// Why the emulator runs without Lambda's CPU and memory limits: one line for the user.
struct ResourceLimitsUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// A group that could not be created (not root, or a read-only hierarchy).
    static func denied(_ path: String) -> ResourceLimitsUnavailable {
        ResourceLimitsUnavailable(
            "cannot create \(path) (\(String(cString: strerror(errno))); limits need root and a writable cgroup hierarchy)"
        )
    }
}

extension ResourceLimits.Hierarchy {
    var isUnified: Bool { if case .unified = self { true } else { false } }
}
