import Emulator
import FlintJSON
import Foundation
import Testing

/// Second real clients on both sides: boto3 and the AWS CLI calling the emulator, and AWS's Python runtime
/// interface client (awslambdaric) running as a bootstrap under it. Skipped, visibly, where they are not installed.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(2)))
    struct RealClientTests {
        static func pythonHas(_ module: String) -> Bool {
            run(["/usr/bin/env", "python3", "-c", "import \(module)"]).status == 0
        }

        static let awsCLI: String? = {
            let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/aws" }
            return path.first { FileManager.default.isExecutableFile(atPath: $0) }
        }()

        static func run(
            _ arguments: [String], environment: [String: String]? = nil
        ) -> (status: Int32, output: String, error: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
            if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            do { try process.run() } catch { return (-1, "", "\(error)") }
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = error.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (
                process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)
            )
        }

        @Test(.enabled(if: pythonHas("boto3"), "boto3 is not installed (pip install boto3; .ci/run installs it)"))
        func boto3InvokesTheEmulatorUnchanged() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")])
            let result = Self.run([
                "/usr/bin/env", "python3", "\(EmulatorHarness.fixtures)/boto3_client.py",
                "http://127.0.0.1:\(emulator.port)",
            ])
            try await emulator.stop()
            #expect(result.status == 0, "boto3 script failed: \(result.error)")
            let seen = try JSONValue(parsing: result.output)
            #expect(seen["ok"]?["status"]?.integer == 200)
            #expect(seen["ok"]?["payload"] == .object(["hello": .string("boto3")]))
            #expect(seen["ok"]?["log"]?.string?.contains("REPORT RequestId:") == true)
            #expect(seen["ok"]?["version"] == .string("$LATEST"))
            #expect(seen["failed"]?["function_error"] == .string("Unhandled"))
            #expect(seen["failed"]?["payload"]?["errorType"] == .string("Function.Refused"))
            #expect(seen["event_status"]?.integer == 202)
            #expect(seen["dry_status"]?.integer == 204)
            #expect(seen["missing"] == .string("ResourceNotFoundException"))
        }

        @Test(.enabled(if: awsCLI != nil, "the AWS CLI is not installed (pip install awscli; .ci/run installs it)"))
        func awsCLIInvokesTheEmulator() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("echo")])
            let output = NSTemporaryDirectory() + "flint-cli-\(UUID().uuidString).json"
            defer { unlink(output) }
            // CLI v2 reads --payload as base64 unless told otherwise; v1 takes it raw and has no such option.
            let v2 = Self.run([Self.awsCLI!, "--version"]).output.hasPrefix("aws-cli/2")
            let result = Self.run(
                [
                    Self.awsCLI!, "lambda", "invoke", "--endpoint-url", "http://127.0.0.1:\(emulator.port)",
                    "--function-name", "echo",
                ] + (v2 ? ["--cli-binary-format", "raw-in-base64-out"] : [])
                    + ["--payload", #"{"from":"aws cli"}"#, output],
                environment: [
                    "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                ])
            try await emulator.stop()
            #expect(result.status == 0, "aws lambda invoke failed: \(result.error)")
            #expect(try JSONValue(parsing: result.output)["StatusCode"]?.integer == 200)
            #expect(try String(contentsOfFile: output, encoding: .utf8) == #"{"from":"aws cli"}"#)
        }

        @Test(
            .enabled(
                if: pythonHas("awslambdaric"),
                "awslambdaric is not installed (pip install awslambdaric; .ci/run installs it)"))
        func awslambdaricRunsAsABootstrapUnderTheEmulator() async throws {
            let python = Self.run(["/usr/bin/env", "python3", "-c", "import sys; print(sys.executable)"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let function = FunctionDefinition(
                name: "py", executable: python, arguments: ["-m", "awslambdaric", "ric_handler.handler"],
                handler: "ric_handler.handler", taskRoot: EmulatorHarness.fixtures,
                environment: ["PYTHONPATH": EmulatorHarness.fixtures, "HOME": NSTemporaryDirectory()])
            let emulator = try await EmulatorHarness([function])
            let reply = try await emulator.invoke("py", #"{"n":1}"#)
            let failed = try await emulator.invoke("py", #"{"fail":"bad input"}"#)
            try await emulator.stop()
            let body = try #require(reply.json, "awslambdaric answered: \(reply.text)")
            #expect(body["echo"] == .object(["n": .number(1)]))
            #expect(body["function"] == .string("py"))
            #expect(body["request_id"]?.string == reply.header("X-Amzn-RequestId"))
            let remaining = try #require(body["remaining_ms"]?.number)
            #expect(remaining > 0 && remaining <= 3000)
            #expect(failed.header("X-Amz-Function-Error") == "Unhandled")
            #expect(failed.json?["errorType"] == .string("ValueError"))
            #expect(failed.json?["errorMessage"] == .string("bad input"))
        }
    }
}
