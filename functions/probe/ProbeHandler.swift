import CKernels
import Embedder
import FlintJSON
import LambdaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A diagnostics function for tests, the emulator's fault tests and smoke tests after a deploy.
///
/// A JSON object event may ask, in this order: `{"sleep_ms": N}` sleeps N ms; `{"exit": code}` ends the process
/// with that status; `{"fail": "message", "type": "Name"}` throws, reported as `Function.Name`
/// (`Function.ProbeFailure` without a type); `{"env": true}` returns the Lambda variables it sees as a JSON object;
/// `{"context": true}` returns the invocation's context (request id, ARN, trace id, client context, deadline,
/// remaining milliseconds, pid). For the emulator's resource limits: `{"cpu_work": N}` runs a fixed CPU-bound loop
/// of N million steps and reports its wall and CPU milliseconds; `{"allocate_mb": N}` allocates N MB and touches
/// every page (then frees them); `{"workers": true}` reports the encoder pool's thread count; `{"write": "path"}`
/// tries to create that file and says whether it could. These answer with one JSON object of what they measured.
/// Any other event, JSON or not, is echoed back unchanged.
///
/// Streaming (`{"stream": N}`): N chunks `chunk i\n` (padded to `chunk_bytes` when given), `chunk_ms` apart;
/// `fail_after: K` throws after K chunks (`Function.ProbeFailure`, as trailers once a chunk went out);
/// `http: true` writes a Function URL prelude first (status 201, `content-type: text/plain`, a cookie);
/// `misuse: true` writes after finishing and logs the refusal.
public struct ProbeHandler: LambdaStreamingHandler {
    /// Creates the handler; it has no state.
    public init() {}

    /// The registry's factory: applies the compute settings a model function would (`FLINT_*`, and the CPU cap
    /// Lambda's memory size implies), so `{"workers": true}` reports the pool a model function would get.
    static func make(_ context: HandlerInitContext) throws -> any LambdaHandler {
        do { try ComputeSettings(lookup: context.variable).apply() } catch {
            throw ConfigurationError(error.description)
        }
        return ProbeHandler()
    }

    /// Variables worth showing: Lambda's own, and the ones the platform sets for every runtime.
    static func isLambdaVariable(_ name: String) -> Bool {
        name.hasPrefix("AWS_") || name.hasPrefix("LAMBDA_") || name.hasPrefix("_")
            || ["TZ", "LANG", "PATH", "LD_LIBRARY_PATH"].contains(name)
    }

    public func respond(to event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws -> StreamedAnswer? {
        guard event.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{"),
            let command = try? JSONValue(parsing: event)
        else {
            response.append(contentsOf: event)
            return nil
        }
        if let (streamed, http) = Self.streamCommand(command) {
            return StreamedAnswer { stream in try Self.stream(streamed, http: http, context: context, to: stream) }
        }
        try answer(command, event: event, context: context, response: &response)
        return nil
    }

    /// The streaming command in a direct event, or in the body of an HTTP (Function URL) event, which then
    /// answers with an HTTP prelude.
    static func streamCommand(_ document: JSONValue) -> (command: JSONValue, http: Bool)? {
        if document["stream"]?.integer != nil { return (document, document["http"]?.bool == true) }
        if document["requestContext"]?["http"] != nil, let body = document["body"]?.string,
            let command = try? JSONValue(parsing: body), command["stream"]?.integer != nil
        {
            return (command, true)
        }
        return nil
    }

    private static func stream(
        _ command: JSONValue, http: Bool, context: LambdaContext, to stream: ResponseStream
    ) throws {
        let count = command["stream"]?.integer ?? 0
        let pause = command["chunk_ms"]?.integer ?? 0
        let size = command["chunk_bytes"]?.integer ?? 0
        let failAfter = command["fail_after"]?.integer
        if failAfter == 0 {
            throw HandlerError(type: "ProbeFailure", message: "failed after 0 chunks, as asked")
        }
        if http {
            try stream.writeHTTPPrelude(
                statusCode: 201, headers: ["content-type": "text/plain"], cookies: ["probe=1; Path=/"])
        }
        for index in 0..<max(0, count) {
            if let failAfter, index == failAfter {
                throw HandlerError(type: "ProbeFailure", message: "failed after \(failAfter) chunks, as asked")
            }
            if index > 0, pause > 0 { usleep(useconds_t(min(pause, 60_000)) * 1000) }
            var chunk = Array("chunk \(index)\n".utf8)
            if size > chunk.count { chunk = [UInt8](repeating: UInt8(ascii: "."), count: size - chunk.count) + chunk }
            try stream.write(chunk)
        }
        if let failAfter, failAfter >= count {
            throw HandlerError(type: "ProbeFailure", message: "failed after \(count) chunks, as asked")
        }
        if command["misuse"]?.bool == true {
            stream.finish()
            do {
                try stream.write("too late")
                context.logger.error("probe: a write after finish was accepted")
            } catch {
                context.logger.warn("probe: write after finish refused: \(error)")
            }
        }
    }

    /// N million steps of a xorshift generator: CPU-bound, no memory traffic; its wall and CPU time.
    static func cpuWork(millions: Int) -> [String: JSONValue] {
        var wall = timespec(), cpu = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<(millions * 1_000_000) {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
        }
        var wallEnd = timespec(), cpuEnd = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wallEnd)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuEnd)
        func milliseconds(_ start: timespec, _ end: timespec) -> Double {
            Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1e6
        }
        return [
            "cpu_work": .number(Double(millions)), "milliseconds": .number(milliseconds(wall, wallEnd)),
            "cpu_milliseconds": .number(milliseconds(cpu, cpuEnd)), "checksum": .number(Double(state % 1000)),
        ]
    }

    /// Allocates `megabytes` MB and writes to every page, so they count against the memory limit; frees them.
    static func allocate(megabytes: Int) -> Int {
        let bytes = megabytes * 1_048_576
        guard let memory = malloc(bytes) else { return 0 }
        defer { free(memory) }
        let pages = memory.assumingMemoryBound(to: UInt8.self)
        for offset in stride(from: 0, to: bytes, by: 4096) { pages[offset] = 1 }
        return megabytes
    }

    /// The buffered commands; an object that asks for none of them is echoed.
    private func answer(_ command: JSONValue, event: [UInt8], context: LambdaContext, response: inout [UInt8]) throws {
        if let milliseconds = command["sleep_ms"]?.integer, milliseconds > 0 {
            usleep(useconds_t(min(milliseconds, 900_000)) * 1000)
        }
        if let code = command["exit"]?.integer {
            context.logger.warn("probe: exiting with status \(code) as asked")
            exit(Int32(truncatingIfNeeded: code))
        }
        if let message = command["fail"]?.string {
            throw HandlerError(type: command["type"]?.string ?? "ProbeFailure", message: message)
        }
        var measured: [String: JSONValue] = [:]
        if let millions = command["cpu_work"]?.integer, millions > 0 {
            measured.merge(Self.cpuWork(millions: min(millions, 100_000))) { $1 }
        }
        if let megabytes = command["allocate_mb"]?.integer, megabytes > 0 {
            measured["allocated_mb"] = .number(Double(Self.allocate(megabytes: min(megabytes, 16_384))))
        }
        if command["workers"]?.bool == true { measured["workers"] = .number(Double(flint_thread_count())) }
        if let path = command["write"]?.string {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            measured["path"] = .string(path)
            if descriptor >= 0 {
                close(descriptor)
                unlink(path)
                measured["written"] = .bool(true)
            } else {
                measured["written"] = .bool(false)
                measured["error"] = .string(String(cString: strerror(errno)))
            }
        }
        if !measured.isEmpty {
            JSONValue.object(measured).write(to: &response)
            return
        }
        if command["context"]?.bool == true {
            var fields: [String: JSONValue] = [
                "requestId": .string(context.requestID),
                "functionArn": .string(context.invokedFunctionARN),
                "deadlineMs": .number(Double(context.deadlineMilliseconds)),
                "remainingMs": .number(
                    Double(
                        context.remainingTime.components.seconds * 1000
                            + context.remainingTime.components.attoseconds / 1_000_000_000_000_000)),
                "pid": .number(Double(getpid())),
            ]
            if let trace = context.traceID { fields["traceId"] = .string(trace) }
            if let client = context.clientContext { fields["clientContext"] = .string(client) }
            if let tenant = context.tenantID { fields["tenantId"] = .string(tenant) }
            JSONValue.object(fields).write(to: &response)
            return
        }
        if command["env"]?.bool == true {
            var variables: [String: JSONValue] = [:]
            var entry = environ
            while let pointer = entry.pointee {
                let pair = String(cString: pointer)
                if let equals = pair.firstIndex(of: "=") {
                    let name = String(pair[..<equals])
                    if Self.isLambdaVariable(name) {
                        variables[name] = .string(String(pair[pair.index(after: equals)...]))
                    }
                }
                entry += 1
            }
            JSONValue.object(variables).write(to: &response)
            return
        }
        response.append(contentsOf: event)
    }
}
