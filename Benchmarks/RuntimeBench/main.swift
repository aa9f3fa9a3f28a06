// flint-runtime-bench: cold start and warm round trip of a Lambda runtime, measured from the Runtime API's side.
//
// Plays a minimal Runtime API on loopback, spawns the runtime under test with posix_spawn, and measures:
// spawn → first GET /next, spawn → first response (medians over --spawns), then --invocations sequential
// invocations on one warm process (round-trip p50/p99, invocations/s) and the process's peak RSS; with
// --batch-event, also batch invocations (texts/s). Peers run in the same process, interleaved spawn by spawn and
// invocation by invocation, so machine drift hits every subject alike.
//
//   swift run -c release flint-runtime-bench --bootstrap .build/lambda/bin/bootstrap [--python-ric]
//   ... --handler embed --python-handler embed_handler.handler --event '{"input":"..."}' \
//       --batch-event '{"input":[...32 texts...]}' --env FLINT_MODEL=... --env PEER_MODEL_DIR=...   (BENCHMARKS.md)
//   ... --compare OLD/bootstrap --compare-env FLINT_MODEL=old.flint     (two builds side by side, interleaved)
//   --python-handler may be repeated: each handler is one more subject (the rerank benchmark's two peers).
//   --drop-caches (root only): empties the page cache before every spawn, so each cold start reads the binary and
//   the model from disk, as a new Lambda environment does.
//   --task DIR (and --compare-task DIR): an unzipped function package; its bootstrap starts in it, as Lambda starts
//   /var/task/bootstrap, and finds its model through the package's function.json.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A Runtime API that hands out one event at a time and timestamps what happens.
final class BenchService: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [UInt8]? = nil
    private var sequence = 0
    /// Bumped for each new subject process, so a killed process's connection cannot take the next event.
    private var generation = 0
    private(set) var firstNextAt: UInt64? = nil
    private(set) var sentAt: UInt64 = 0
    private(set) var respondedAt: UInt64? = nil
    private(set) var lastResponse: [UInt8] = []

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                precondition(bind(fd, $0, length) == 0 && listen(fd, 16) == 0, "cannot listen on loopback")
                _ = getsockname(fd, $0, &length)
            }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { return }
                var one: Int32 = 1
                setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                condition.lock()
                let owner = generation
                condition.unlock()
                Thread { [self] in serve(connection, generation: owner) }.start()
            }
        }.start()
    }

    func reset() {
        condition.lock(); defer { condition.unlock() }
        pending = nil; firstNextAt = nil; respondedAt = nil
        generation += 1
        condition.broadcast()
    }

    /// Hands `event` to the next `/next` and waits for its response; returns (sent, responded) times.
    func invoke(_ event: [UInt8], timeoutSeconds: Double = 30) -> (sent: UInt64, responded: UInt64)? {
        condition.lock(); defer { condition.unlock() }
        respondedAt = nil
        pending = event
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while respondedAt == nil { if !condition.wait(until: deadline) { return nil } }
        return (sentAt, respondedAt!)
    }

    func waitForFirstNext(timeoutSeconds: Double = 30) -> UInt64? {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while firstNextAt == nil { if !condition.wait(until: deadline) { return nil } }
        return firstNextAt
    }

    private func serve(_ connection: Int32, generation owner: Int) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Read one request head and its Content-Length body. `arrivedAt` is when its first bytes came in, so
            // the round trip excludes this server's own parsing.
            var arrivedAt = buffer.isEmpty ? 0 : monotonicNanoseconds()
            var headEnd: Int? = nil
            var scanned = 0
            while headEnd == nil {
                while scanned + 3 < buffer.count {
                    if buffer[scanned] == 13 && buffer[scanned + 1] == 10 && buffer[scanned + 2] == 13 && buffer[scanned + 3] == 10 {
                        headEnd = scanned; break
                    }
                    scanned += 1
                }
                if headEnd != nil { break }
                let count = recv(connection, &chunk, chunk.count, 0)
                if count <= 0 { return }
                if arrivedAt == 0 { arrivedAt = monotonicNanoseconds() }
                buffer.append(contentsOf: chunk[..<count])
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self).lowercased()
            buffer.removeFirst(headEnd! + 4)
            var length = 0
            if let range = head.range(of: "content-length:") {
                length = Int(head[range.upperBound...].prefix { $0 != "\r" }.trimmingCharacters(in: .whitespaces)) ?? 0
            }
            while buffer.count < length {
                let count = recv(connection, &chunk, chunk.count, 0)
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[..<count])
            }
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)

            let reply: [UInt8]
            if head.hasPrefix("get ") {
                condition.lock()
                if firstNextAt == nil { firstNextAt = monotonicNanoseconds(); condition.broadcast() }
                while pending == nil && generation == owner { condition.wait() }
                if generation != owner { condition.unlock(); return }
                let event = pending!
                pending = nil
                sequence += 1
                let id = "bench-\(sequence)"
                condition.unlock()
                let deadline = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
                reply = Array(("HTTP/1.1 200 OK\r\nContent-Length: \(event.count)\r\nContent-Type: application/json\r\n"
                    + "Lambda-Runtime-Aws-Request-Id: \(id)\r\nLambda-Runtime-Deadline-Ms: \(deadline)\r\n"
                    + "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n"
                    + "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\r\n").utf8) + event
                sentAt = monotonicNanoseconds()
            } else {
                condition.lock()
                respondedAt = arrivedAt
                lastResponse = body
                condition.broadcast()
                condition.unlock()
                reply = Array("HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\nContent-Type: application/json\r\n\r\n{\"status\":\"OK\"}".utf8)
            }
            var offset = 0
            while offset < reply.count {
                let sent = reply[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}

struct Subject {
    let name: String
    let argv: [String]
    let environment: [String: String]
    /// Its working directory (a task folder: Lambda starts the bootstrap in /var/task); nil: this process's.
    var directory: String? = nil
}

let startDirectory = FileManager.default.currentDirectoryPath

/// Starts a subject; returns its pid and the monotonic time just before the spawn.
func spawn(_ subject: Subject, port: UInt16) -> (pid_t, UInt64) {
    var environment = subject.environment
    environment["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(port)"
    let argv = subject.argv.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var fileActions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fileActions)
    posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
    if ProcessInfo.processInfo.environment["BENCH_DEBUG"] == nil { posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0) }
    defer { posix_spawn_file_actions_destroy(&fileActions) }
    var pid: pid_t = 0
    // The child starts in the subject's folder (Glibc's addchdir file action is not visible from Swift).
    precondition(chdir(subject.directory ?? startDirectory) == 0, "cannot enter \(subject.directory ?? startDirectory)")
    let start = monotonicNanoseconds()
    let result = posix_spawn(&pid, subject.argv[0], &fileActions, nil, argv, envp)
    precondition(result == 0, "cannot spawn \(subject.argv[0]): \(String(cString: strerror(result)))")
    return (pid, start)
}

/// Reads the process's peak RSS (VmHWM, KiB), then kills it. wait4's ru_maxrss would be wrong here: a spawned
/// child inherits the spawner's high-water mark across exec.
func reap(_ pid: pid_t) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    let kibibytes = Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    kill(pid, SIGKILL)
    var code: Int32 = 0
    waitpid(pid, &code, 0)
    return kibibytes
}

/// CPU time the process has used so far, in nanoseconds (from /proc/PID/schedstat).
func cpuNanoseconds(_ pid: pid_t) -> UInt64 {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/schedstat", encoding: .utf8)) ?? ""
    return UInt64(text.split(separator: " ").first ?? "") ?? 0
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
}

func milliseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }

/// Prints a line at once (stdout to a pipe would otherwise hold it until exit).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

// --- options ------------------------------------------------------------------------------------------------------
var bootstrap = ".build/lambda/bin/bootstrap"
var spawns = 21
var invocations = 2000
var withPythonRIC = false
var handler = "echo"
var pythonHandlers: [String] = []
var eventText = #"{"ping":1}"#
var batchEventText: String? = nil
var extraEnvironment: [String: String] = [:]
// A second bootstrap (an older build, say) run as one more subject, with variables of its own over --env's.
var compareBootstrap: String? = nil
var compareEnvironment: [String: String] = [:]
// Task folders (an unzipped function package): the bootstrap in it, started there with LAMBDA_TASK_ROOT naming it.
var task: String? = nil
var compareTask: String? = nil
var dropCaches = false
func pair(_ text: String, _ option: String) -> (String, String) {
    guard let equals = text.firstIndex(of: "=") else { FileHandle.standardError.write(Data("\(option) takes NAME=VALUE\n".utf8)); exit(2) }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
}
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--bootstrap": bootstrap = arguments.next() ?? bootstrap
    case "--spawns": spawns = Int(arguments.next() ?? "") ?? spawns
    case "--invocations": invocations = Int(arguments.next() ?? "") ?? invocations
    case "--python-ric": withPythonRIC = true
    case "--handler": handler = arguments.next() ?? handler
    case "--python-handler": pythonHandlers += arguments.next().map { [$0] } ?? []
    case "--event": eventText = arguments.next() ?? eventText
    case "--batch-event": batchEventText = arguments.next()
    case "--env":
        let (name, value) = pair(arguments.next() ?? "", "--env")
        extraEnvironment[name] = value
    case "--drop-caches": dropCaches = true
    case "--compare": compareBootstrap = arguments.next()
    case "--task": task = arguments.next()
    case "--compare-task": compareTask = arguments.next()
    case "--compare-env":
        let (name, value) = pair(arguments.next() ?? "", "--compare-env")
        compareEnvironment[name] = value
    default:
        FileHandle.standardError.write(Data("flint-runtime-bench: unknown argument '\(argument)'\n".utf8))
        exit(2)
    }
}
if dropCaches && getuid() != 0 {
    FileHandle.standardError.write(Data("flint-runtime-bench: --drop-caches needs root (/proc/sys/vm/drop_caches)\n".utf8))
    exit(2)
}
/// Writes back dirty pages and empties the page cache (dentries and inodes too).
func emptyPageCache() {
    sync()
    let descriptor = open("/proc/sys/vm/drop_caches", O_WRONLY)
    if descriptor >= 0 {
        _ = write(descriptor, "3", 1)
        close(descriptor)
    }
}
// Absolute: each spawn enters its subject's folder first.
task = task.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
compareTask = compareTask.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
if let task { bootstrap = "\(task)/bootstrap" }
if let compareTask { compareBootstrap = "\(compareTask)/bootstrap" }
guard access(bootstrap, X_OK) == 0 else {
    FileHandle.standardError.write(Data("flint-runtime-bench: no executable bootstrap at \(bootstrap) (run deploy/build-bootstrap)\n".utf8))
    exit(2)
}

var lambdaEnvironment = [
    "_HANDLER": handler, "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "TZ": ":UTC", "LANG": "en_US.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
]
lambdaEnvironment.merge(extraEnvironment) { $1 }
/// A subject's variables: LAMBDA_TASK_ROOT names its task folder, when it has one.
func environment(_ base: [String: String], task: String?, _ extra: [String: String] = [:]) -> [String: String] {
    base.merging(extra) { $1 }.merging(task.map { ["LAMBDA_TASK_ROOT": $0] } ?? [:]) { $1 }
}
var subjects = [Subject(name: "flint", argv: [bootstrap], environment: environment(lambdaEnvironment, task: task), directory: task)]
if let compareBootstrap {
    subjects.append(Subject(name: "flint (compare)", argv: [compareBootstrap],
                            environment: environment(lambdaEnvironment, task: compareTask, compareEnvironment), directory: compareTask))
}
if withPythonRIC {
    // The python3 first on this process's PATH (where awslambdaric was pip-installed), unless PYTHON names one.
    let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
    guard let python = ProcessInfo.processInfo.environment["PYTHON"] ?? searchPath.first(where: { access($0, X_OK) == 0 }) else {
        FileHandle.standardError.write(Data("flint-runtime-bench: no python3 on PATH for --python-ric\n".utf8)); exit(2)
    }
    let peers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers").path
    var environment = lambdaEnvironment
    environment["PYTHONPATH"] = peers
    environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    // One subject per --python-handler (repeatable), each named after its handler when there are several.
    let handlers = pythonHandlers.isEmpty ? ["echo_handler.handler"] : pythonHandlers
    for pythonHandler in handlers {
        let name = handlers.count == 1 ? "python awslambdaric" : "python \(pythonHandler)"
        subjects.append(Subject(name: name, argv: [python, "-m", "awslambdaric", pythonHandler], environment: environment))
    }
}

// --- cold starts, interleaved ---------------------------------------------------------------------------------------
let service = BenchService()
// This process plays Lambda's Runtime API, which is warm on Lambda. With the page cache emptied before a spawn, its
// own code (this executable, the Swift and Foundation libraries) was read back from disk while it answered the first
// /next, competing with the runtime under test for the disk: perf showed the bootstrap waiting 9 ms between its GET
// /next and the event. Locked pages stay resident through drop_caches. The subject inherits no lock (they end at
// exec) and the static bootstrap maps no library; a Python peer does find libc, which this process maps too, cached.
if dropCaches {
    guard mlockall(MCL_CURRENT) == 0 else {
        FileHandle.standardError.write(Data("flint-runtime-bench: mlockall: \(String(cString: strerror(errno)))\n".utf8))
        exit(1)
    }
}
var toNext = [String: [Double]]()
var toResponse = [String: [Double]]()
var coldRSS = [String: [Double]]()
let event = Array(eventText.utf8)
/// An echo must come back byte for byte (Python re-serialises JSON with spaces, so compare without them); any other
/// function's answer must not be an error document.
let checksEcho = handler == "echo"
func answered(_ response: [UInt8], to event: [UInt8]) -> Bool {
    if checksEcho { return response.filter { $0 != 0x20 } == event }
    return !String(decoding: response, as: UTF8.self).contains("errorType")
}
for _ in 0..<spawns {
    for subject in subjects {
        service.reset()
        if dropCaches { emptyPageCache() }
        let (pid, start) = spawn(subject, port: service.port)
        guard let next = service.waitForFirstNext(), let (_, responded) = service.invoke(event) else {
            say("\(subject.name): no /next or response within 30 s"); exit(1)
        }
        guard answered(service.lastResponse, to: event) else {
            say("\(subject.name): wrong answer: \(String(decoding: service.lastResponse.prefix(300), as: UTF8.self))"); exit(1)
        }
        toNext[subject.name, default: []].append(milliseconds(next - start))
        toResponse[subject.name, default: []].append(milliseconds(responded - start))
        coldRSS[subject.name, default: []].append(Double(reap(pid)) / 1024)
        usleep(20_000)
    }
}

// --- warm round trips, interleaved invocation by invocation ---------------------------------------------------------
// Each subject gets its own service and process; invocations alternate between them so drift hits all alike.
// A cycle is invoke-to-return as the service sees it (event handed over, response back); invocations/s is
// cycles per second of the subject's own cycle time.
var results: [(String, [Double], Double, Double, Double)] = []
let services = subjects.map { _ in BenchService() }
let pids = zip(subjects, services).map { subject, service in spawn(subject, port: service.port).0 }
for (subject, service) in zip(subjects, services) {
    for _ in 0..<100 {  // warm-up
        guard service.invoke(event) != nil else { say("\(subject.name): warm-up invocation timed out"); exit(1) }
    }
}
var roundTrips = subjects.map { _ in [Double]() }
var cycleNanoseconds = subjects.map { _ in UInt64(0) }
let cpuBefore = pids.map(cpuNanoseconds)
for _ in 0..<invocations {
    for index in subjects.indices {
        let began = monotonicNanoseconds()
        guard let (sent, responded) = services[index].invoke(event) else { say("\(subjects[index].name): invocation timed out"); exit(1) }
        cycleNanoseconds[index] += monotonicNanoseconds() - began
        roundTrips[index].append(milliseconds(responded - sent))
    }
}
let cpuAfter = pids.map(cpuNanoseconds)
// Batches: fewer, longer invocations, alternating the same way.
var batchSeconds = subjects.map { _ in [Double]() }
var batchTexts = 0
if let batchEventText {
    let batch = Array(batchEventText.utf8)
    batchTexts = max(1, (try? JSONSerialization.jsonObject(with: Data(batch)) as? [String: Any])?["input"].flatMap { $0 as? [Any] }?.count ?? 1)
    for _ in 0..<max(5, invocations / 20) {
        for index in subjects.indices {
            guard let (sent, responded) = services[index].invoke(batch, timeoutSeconds: 120) else { say("\(subjects[index].name): batch timed out"); exit(1) }
            guard answered(services[index].lastResponse, to: batch) else { say("\(subjects[index].name): wrong batch answer"); exit(1) }
            batchSeconds[index].append(Double(responded - sent) / 1e9)
        }
    }
}
for index in subjects.indices {
    let cpuPerInvocation = Double(cpuAfter[index] - cpuBefore[index]) / Double(invocations) / 1000
    let peak = Double(reap(pids[index])) / 1024
    results.append((subjects[index].name, roundTrips[index], Double(invocations) / (Double(cycleNanoseconds[index]) / 1e9), peak, cpuPerInvocation))
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
say("cold start, \(spawns) spawns each (interleaved\(dropCaches ? ", page cache emptied before each" : "")), ms: median [p10, p90]")
for subject in subjects {
    let next = toNext[subject.name]!, response = toResponse[subject.name]!
    say("  \(subject.name): spawn→first /next \(format(percentile(next, 0.5))) [\(format(percentile(next, 0.1))), \(format(percentile(next, 0.9)))]"
        + "  spawn→first response \(format(percentile(response, 0.5))) [\(format(percentile(response, 0.1))), \(format(percentile(response, 0.9)))]"
        + "  peak RSS after one invocation \(format(percentile(coldRSS[subject.name]!, 0.5), 1)) MiB")
}
say("warm, \(invocations) sequential \(handler) invocations per process, interleaved between subjects")
for (name, roundTrips, rate, peak, cpu) in results {
    say("  \(name): round trip p50 \(format(percentile(roundTrips, 0.5), 3)) ms, p99 \(format(percentile(roundTrips, 0.99), 3)) ms, "
        + "\(format(rate, 0)) invocations/s, runtime CPU \(format(cpu, 1)) µs/invocation, peak RSS \(format(peak, 1)) MiB")
}
if batchEventText != nil {
    say("batches of \(batchTexts) texts, \(batchSeconds[0].count) per process, interleaved")
    for index in subjects.indices {
        let median = percentile(batchSeconds[index], 0.5)
        say("  \(subjects[index].name): batch p50 \(format(median * 1000, 1)) ms, \(format(Double(batchTexts) / median, 0)) texts/s")
    }
}
if subjects.count > 1 {
    let flint = percentile(toNext["flint"]!, 0.5)
    for subject in subjects.dropFirst() {
        say("  ratio spawn→first /next, \(subject.name) / flint: \(format(percentile(toNext[subject.name]!, 0.5) / flint, 1))×")
    }
}
