import CFlintSystem

/// The calling thread's place in the disk's queue.
public enum IOPriority {
    /// Puts the calling thread's reads behind every other thread's wherever the I/O scheduler honours classes
    /// (`ioprio_set`, idle class; mq-deadline, BFQ); elsewhere nothing changes. For reads that are only ahead of
    /// need: the pages a process faults in meanwhile are served first. Returns whether the kernel took it.
    @discardableResult
    public static func idle() -> Bool { flint_io_priority_idle() == 0 }
}
