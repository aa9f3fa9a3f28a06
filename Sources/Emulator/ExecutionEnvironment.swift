/// One execution environment of a function: a child process and its own Runtime API endpoint.
///
/// Owned and mutated only by its ``FunctionService``, on the service's event loop.
final class ExecutionEnvironment {
    enum State {
        /// Spawned, init not finished (no `/next` yet).
        case starting
        /// Has called `/next` at least once.
        case ready
        /// Being stopped on purpose (reaped, timed out, shutting down): its exit is expected.
        case stopping
    }

    let id: Int
    let provisioned: Bool
    /// When the process was spawned (init is timed from here, as Lambda's Init Duration is).
    var startedAt = ContinuousClock.now
    var state = State.starting
    var process: ChildProcess? = nil
    /// Its cgroups, when the emulator applies Lambda's limits.
    var cgroup: ResourceLimits.Group? = nil
    var server: RuntimeServer? = nil
    /// `/next` requests waiting for an invocation, each with an id so a closed connection can withdraw its own.
    var waiters: [(id: Int, deliver: (Dispatch?) -> Void)] = []
    /// Request ids dispatched here and not yet answered.
    var inFlight: Set<String> = []
    var idleSince = ContinuousClock.now
    var initDuration: Duration? = nil
    /// Whether the next REPORT line still owes the Init Duration (the first invocation after a cold start).
    var owesInitDuration = true
    /// The invocation whose arrival started this environment; it fails if init fails.
    var trigger: String?
    /// What `/runtime/init/error` reported, if anything.
    var initError: (type: String, document: [UInt8])? = nil
    var initTimedOut = false
    /// The peak RSS last read, in bytes, and when: `/proc` is read at most every 20 ms, since `VmHWM` only grows
    /// and a read per invocation would cost more than the invocation.
    var peakResidentBytes = 0
    var peakReadAt = ContinuousClock.now - .seconds(1)

    init(id: Int, provisioned: Bool, trigger: String?) {
        self.id = id
        self.provisioned = provisioned
        self.trigger = trigger
    }

    var isIdle: Bool { state == .ready && inFlight.isEmpty }
}
