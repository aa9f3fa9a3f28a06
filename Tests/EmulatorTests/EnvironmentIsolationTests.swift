import FlintJSON
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An environment's process inherits nothing of the emulator's (its listeners, epoll, timers) and ends when the
/// emulator is killed with SIGKILL, so a crashed emulator leaves no runtime behind holding its port.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(2)))
    struct EnvironmentIsolationTests {
        /// The pids whose parent is `parent`.
        static func children(of parent: Int32) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 2 && Int32(fields[1]) == parent
            }
        }

        /// Descriptor number → what it points at (`socket:[123]`, `pipe:[456]`, `/dev/null`, `anon_inode:[eventpoll]`).
        static func descriptors(of pid: Int32) -> [Int: String] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            var result: [Int: String] = [:]
            for entry in entries {
                guard let number = Int(entry),
                    let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)")
                else { continue }
                result[number] = target
            }
            return result
        }

        static func invoke(_ port: Int, _ function: String, _ body: String, event: Bool = false) async throws -> Data {
            var request = URLRequest(
                url: URL(string: "http://127.0.0.1:\(port)/2015-03-31/functions/\(function)/invocations")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            if event { request.setValue("Event", forHTTPHeaderField: "X-Amz-Invocation-Type") }
            return try await URLSession.shared.data(for: request).0
        }

        static func waitUntilGone(_ pid: Int32, seconds: Double = 5) -> Bool {
            for _ in 0..<Int(seconds * 20) {
                if kill(pid, 0) != 0 { return true }
                usleep(50_000)
            }
            return false
        }

        @Test func aRuntimeInheritsNothingAndEndsWithAKilledEmulator() async throws {
            let (emulator, port, _) = try CLITests.startEmulator(["probe", "--quiet"])
            _ = try await Self.invoke(port, "probe", "{}")
            let child = try #require(Self.children(of: emulator.processIdentifier).first)
            let mine = Self.descriptors(of: child),
                theirs = Set(Self.descriptors(of: emulator.processIdentifier).values)
            #expect(
                mine[0] == "/dev/null" && mine[1]?.hasPrefix("pipe:") == true && mine[2]?.hasPrefix("pipe:") == true)
            for (number, target) in mine where number > 2 {
                #expect(!target.hasPrefix("anon_inode:"), "descriptor \(number) is the emulator's \(target)")
                #expect(!theirs.contains(target), "descriptor \(number) (\(target)) is shared with the emulator")
            }
            kill(emulator.processIdentifier, SIGKILL)
            emulator.waitUntilExit()
            #expect(Self.waitUntilGone(child), "the runtime ended with the emulator")
            // Nothing holds the port: it can be bound again at once.
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var yes: Int32 = 1
            setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            #expect(bound == 0, "port \(port) is free once the emulator is gone")
        }

        /// A runtime that never talks to the Runtime API (here `sleep`) still ends with the emulator: the
        /// parent-death signal, not a broken connection, ends it.
        @Test func aSilentRuntimeEndsWithAKilledEmulatorToo() async throws {
            let (emulator, port, _) = try CLITests.startEmulator(
                ["probe", "--quiet", "--bootstrap-argument", "600", "--init-timeout", "60"], bootstrap: "/bin/sleep")
            _ = try await Self.invoke(port, "probe", "{}", event: true)
            var child: Int32? = nil
            for _ in 0..<100 where child == nil {
                child = Self.children(of: emulator.processIdentifier).first
                if child == nil { usleep(50_000) }
            }
            let sleeper = try #require(child)
            #expect(kill(sleeper, 0) == 0)
            kill(emulator.processIdentifier, SIGKILL)
            emulator.waitUntilExit()
            #expect(Self.waitUntilGone(sleeper), "the silent runtime ended with the emulator")
        }
    }
}
