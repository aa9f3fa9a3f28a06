import Emulator
import FlintJSON
import Foundation
import Testing

/// The emulator end to end: real HTTP on both sides, the real bootstrap with the echo and probe functions.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(2)))
    struct EmulatorTests {
        @Test func synchronousInvocationEchoesWithLambdaHeaders() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("echo")])
            let reply = try await emulator.invoke("echo", #"{"hello":"wörld 🚀"}"#)
            #expect(reply.status == 200)
            #expect(reply.text == #"{"hello":"wörld 🚀"}"#)
            #expect(reply.header("X-Amz-Executed-Version") == "$LATEST")
            #expect(reply.header("X-Amz-Function-Error") == nil)
            // With one function, `function` names it, as AWS's own emulator accepts; so does a full ARN.
            #expect(try await emulator.invoke("function", "[1]").text == "[1]")
            #expect(
                try await emulator.invoke("arn:aws:lambda:us-east-1:012345678912:function:echo:live", "2").text == "2")
            let missing = try await emulator.invoke("nope", "{}")
            #expect(missing.status == 404)
            #expect(missing.header("X-Amzn-ErrorType") == "ResourceNotFoundException")
            #expect(missing.json?["message"]?.string?.contains("function:nope") == true)
            try await emulator.stop()
        }

        @Test func runtimeSeesLambdaEnvironmentAndContext() async throws {
            let emulator = try await EmulatorHarness([
                EmulatorHarness.function("probe", environment: ["MY_SETTING": "1"])
            ])
            let context = try #require(
                try await emulator.invoke(
                    "probe", #"{"context":true}"#,
                    headers: [
                        "X-Amz-Client-Context": Data(#"{"custom":{"k":"v"}}"#.utf8).base64EncodedString(),
                        "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    ]
                ).json)
            #expect(context["requestId"]?.string?.count == 36, "a UUID request id")
            #expect(context["functionArn"] == .string("arn:aws:lambda:us-east-1:012345678912:function:probe"))
            #expect(context["clientContext"] == .string(#"{"custom":{"k":"v"}}"#))
            #expect(
                context["traceId"]
                    == .string("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"))
            let remaining = try #require(context["remainingMs"]?.number)
            #expect(remaining > 2000 && remaining <= 3000, "a real epoch deadline, now + timeout")

            let generated = try #require(try await emulator.invoke("probe", #"{"context":true}"#).json)
            #expect(
                generated["traceId"]?.string?.wholeMatch(
                    of: /Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0/) != nil)

            let environment = try #require(try await emulator.invoke("probe", #"{"env":true}"#).json)
            #expect(environment["_HANDLER"] == .string("probe"))
            #expect(environment["AWS_LAMBDA_FUNCTION_NAME"] == .string("probe"))
            #expect(environment["AWS_LAMBDA_FUNCTION_VERSION"] == .string("$LATEST"))
            #expect(environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == .string("128"))
            #expect(environment["AWS_LAMBDA_LOG_GROUP_NAME"] == .string("/aws/lambda/probe"))
            #expect(environment["AWS_LAMBDA_LOG_STREAM_NAME"]?.string?.contains("/[$LATEST]") == true)
            #expect(environment["AWS_LAMBDA_INITIALIZATION_TYPE"] == .string("on-demand"))
            #expect(environment["AWS_REGION"] == .string("us-east-1"))
            #expect(environment["TZ"] == .string(":UTC"))
            #expect(environment["LAMBDA_TASK_ROOT"] == .string(NSTemporaryDirectory()))
            #expect(
                environment["LD_LIBRARY_PATH"]?.string?.contains(
                    "\(NSTemporaryDirectory()):\(NSTemporaryDirectory())/lib") == true)
            #expect(environment["AWS_LAMBDA_RUNTIME_API"]?.string?.hasPrefix("127.0.0.1:") == true)
            #expect(environment["AWS_LAMBDA_MAX_CONCURRENCY"] == nil)
            let invalid = try await emulator.invoke("probe", "{}", headers: ["X-Amz-Client-Context": "%%% not base64"])
            #expect(invalid.status == 400)
            #expect(invalid.header("X-Amzn-ErrorType") == "InvalidRequestContentException")
            try await emulator.stop()
        }

        @Test func functionErrorsComeBackAsLambdaReportsThem() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")])
            let reply = try await emulator.invoke("probe", #"{"fail":"disk full","type":"StorageError"}"#)
            #expect(reply.status == 200)
            #expect(reply.header("X-Amz-Function-Error") == "Unhandled")
            #expect(reply.json?["errorType"] == .string("Function.StorageError"))
            #expect(reply.json?["errorMessage"] == .string("disk full"))
            #expect(try await emulator.invoke("probe", "after").text == "after", "the environment keeps serving")
            try await emulator.stop()
        }

        @Test func dryRunAndEventWithRetries() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")])
            let dry = try await emulator.invoke("probe", "{}", headers: ["X-Amz-Invocation-Type": "DryRun"])
            #expect(dry.status == 204)
            #expect(try await emulator.stats("probe")[integer: "invocations"] == 0)

            let event = try await emulator.invoke(
                "probe", #"{"fail":"always"}"#, headers: ["X-Amz-Invocation-Type": "Event"])
            #expect(event.status == 202)
            #expect(event.body.isEmpty)
            // Lambda's policy: the first attempt and two retries.
            #expect(
                try await EmulatorHarness.eventually { try await emulator.stats("probe")[integer: "invocations"] == 3 })
            let stats = try await emulator.stats("probe")
            #expect(stats[integer: "asyncRetries"] == 2)
            #expect(stats[integer: "errors"] == 3)

            let succeeds = try await emulator.invoke("probe", "ok", headers: ["X-Amz-Invocation-Type": "Event"])
            #expect(succeeds.status == 202)
            #expect(
                try await EmulatorHarness.eventually { try await emulator.stats("probe")[integer: "invocations"] == 4 })
            #expect(try await emulator.stats("probe")[integer: "asyncRetries"] == 2, "a success is not retried")

            let bogus = try await emulator.invoke("probe", "{}", headers: ["X-Amz-Invocation-Type": "Later"])
            #expect(bogus.status == 400)
            try await emulator.stop()
        }

        @Test func tailReturnsTheInvocationsLog() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")])
            let reply = try await emulator.invoke(
                "probe", #"{"fail":"logged","type":"Visible"}"#, headers: ["X-Amz-Log-Type": "Tail"])
            let encoded = try #require(reply.header("X-Amz-Log-Result"))
            let log = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
            #expect(log.hasPrefix("START RequestId: "))
            #expect(log.contains("END RequestId: "))
            #expect(log.contains("REPORT RequestId: "))
            #expect(log.contains("\tInit Duration: "), "a cold start reports its init")
            #expect(log.contains("Status: error\tError Type: Function.Visible"))
            #expect(log.utf8.count <= 4096)
            let plain = try await emulator.invoke("probe", "x")
            #expect(plain.header("X-Amz-Log-Result") == nil)
            try await emulator.stop()
        }

        @Test func throttlesPastMaxConcurrencyWhenAskedTo() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) {
                $0.maxConcurrency = 1
                $0.onThrottle = .reject
            }
            async let slow = emulator.invoke("probe", #"{"sleep_ms":800}"#)
            #expect(
                try await EmulatorHarness.eventually { try await emulator.stats("probe")[integer: "environments"] == 1 }
            )
            try await Task.sleep(for: .milliseconds(100))
            let throttled = try await emulator.invoke("probe", "{}")
            #expect(throttled.status == 429)
            #expect(throttled.header("X-Amzn-ErrorType") == "TooManyRequestsException")
            #expect(try await slow.status == 200)
            #expect(try await emulator.stats("probe")[integer: "throttles"] == 1)
            #expect(try await emulator.invoke("probe", "free again").status == 200)
            try await emulator.stop()
        }

        @Test func queuesPastMaxConcurrencyByDefault() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) { $0.maxConcurrency = 1 }
            let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await emulator.invoke("probe", #"{"sleep_ms":50}"#).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies == [200, 200, 200, 200])
            let stats = try await emulator.stats("probe")
            #expect(stats[integer: "coldStarts"] == 1)
            #expect(stats[integer: "throttles"] == 0)
            try await emulator.stop()
        }

        @Test func scalesUpUnderConcurrentLoadAndReapsBackToZero() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) {
                $0.maxConcurrency = 3
                $0.idleTimeout = .milliseconds(400)
            }
            let pids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await emulator.invoke("probe", #"{"sleep_ms":600,"context":true}"#).json?["pid"]?.integer
                    }
                }
                return try await group.reduce(into: Set<Int>()) { if let pid = $1 { $0.insert(pid) } }
            }
            let stats = try await emulator.stats("probe")
            #expect(stats[integer: "coldStarts"] == 3)
            #expect(stats[integer: "environments"] == 3)
            #expect(pids.count == 3, "three concurrent invocations ran in three processes")
            #expect(
                try await EmulatorHarness.eventually { try await emulator.stats("probe")[integer: "environments"] == 0 }
            )
            #expect(EmulatorHarness.children(named: "bootstrap").isEmpty, "reaped environments leave no process")
            try await emulator.stop()
        }

        @Test func provisionedEnvironmentsStartUpFront() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) {
                $0.provisioned = 2
                $0.idleTimeout = .milliseconds(200)
            }
            #expect(try await emulator.stats("probe")[integer: "environments"] == 2)
            #expect(try await emulator.stats("probe")[integer: "coldStarts"] == 2)
            let environment = try await emulator.invoke("probe", #"{"env":true}"#).json
            #expect(environment?["AWS_LAMBDA_INITIALIZATION_TYPE"] == .string("provisioned-concurrency"))
            try await Task.sleep(for: .milliseconds(700))
            #expect(
                try await emulator.stats("probe")[integer: "environments"] == 2,
                "provisioned environments are not reaped")
            #expect(
                try await emulator.stats("probe")[integer: "coldStarts"] == 2, "the invocation found a warm environment"
            )
            try await emulator.stop()
        }

        @Test func timeoutKillsTheEnvironmentAndTheNextCallGetsAFreshOne() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe", timeout: .milliseconds(500))])
            let first = try #require(try await emulator.invoke("probe", #"{"context":true}"#).json?["pid"]?.integer)
            let reply = try await emulator.invoke("probe", #"{"sleep_ms":5000}"#)
            #expect(reply.header("X-Amz-Function-Error") == "Unhandled")
            #expect(reply.json?["errorType"] == .string("Sandbox.Timedout"))
            #expect(reply.json?["errorMessage"]?.string?.hasSuffix("Task timed out after 0.50 seconds") == true)
            #expect(
                try await EmulatorHarness.eventually { kill(Int32(first), 0) != 0 }, "the timed-out process is killed")
            let second = try #require(try await emulator.invoke("probe", #"{"context":true}"#).json?["pid"]?.integer)
            #expect(second != first)
            let stats = try await emulator.stats("probe")
            #expect(stats[integer: "timeouts"] == 1)
            #expect(stats[integer: "coldStarts"] == 2)
            try await emulator.stop()
        }

        @Test func crashMidInvocationIsAnExitErrorAndRecovers() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")])
            let reply = try await emulator.invoke("probe", #"{"exit":3}"#)
            #expect(reply.header("X-Amz-Function-Error") == "Unhandled")
            #expect(reply.json?["errorType"] == .string("Runtime.ExitError"))
            let message = try #require(reply.json?["errorMessage"]?.string)
            #expect(
                message.hasPrefix("RequestId: ") && message.hasSuffix("Error: Runtime exited with error: exit status 3")
            )
            #expect(try await emulator.invoke("probe", "again").text == "again")
            #expect(try await emulator.stats("probe")[integer: "crashes"] == 1)
            try await emulator.stop()
        }

        @Test func initErrorFailsTheInvocationWithItsType() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("broken", handler: "no-such-handler")])
            let reply = try await emulator.invoke("broken", "{}")
            #expect(reply.header("X-Amz-Function-Error") == "Unhandled")
            #expect(reply.json?["errorType"] == .string("Runtime.NoSuchHandler"))
            #expect(
                reply.json?["errorMessage"]?.string?.contains(
                    "this bootstrap serves: classify, echo, embed, probe, rerank, search") == true)
            #expect(
                try await EmulatorHarness.eventually {
                    try await emulator.stats("broken")[integer: "environments"] == 0
                })
            try await emulator.stop()
        }

        @Test func initTimeoutFailsTheInvocation() async throws {
            let hang = FunctionDefinition(
                name: "hang", executable: "/bin/sleep", arguments: ["30"], handler: "x",
                taskRoot: NSTemporaryDirectory())
            let emulator = try await EmulatorHarness([hang]) { $0.initTimeout = .milliseconds(300) }
            let reply = try await emulator.invoke("hang", "{}")
            #expect(reply.json?["errorType"] == .string("Sandbox.Timedout"))
            #expect(reply.json?["errorMessage"] == .string("INIT timed out after 0.30 seconds"))
            #expect(try await EmulatorHarness.eventually { EmulatorHarness.children(named: "sleep").isEmpty })
            try await emulator.stop()
        }

        @Test func payloadLimits() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("echo")])
            let largest = [UInt8](repeating: UInt8(ascii: "a"), count: 6_291_456)
            let fits = try await emulator.invoke("echo", largest)
            #expect(fits.status == 200 && fits.body.count == largest.count)
            let over = try await emulator.invoke("echo", largest + [UInt8(ascii: "a")])
            #expect(over.status == 413)
            #expect(over.header("X-Amzn-ErrorType") == "RequestEntityTooLargeException")
            let asyncOver = try await emulator.invoke(
                "echo", [UInt8](repeating: 0x61, count: 1_048_577),
                headers: ["X-Amz-Invocation-Type": "Event"])
            #expect(asyncOver.status == 413)
            try await emulator.stop()
        }

        @Test func validatesWhatRuntimesSend() async throws {
            let rogue = FunctionDefinition(
                name: "rogue", executable: "/usr/bin/env",
                arguments: ["python3", "\(EmulatorHarness.fixtures)/rogue_runtime.py"],
                handler: "rogue", taskRoot: NSTemporaryDirectory())
            let emulator = try await EmulatorHarness([rogue])
            let wrongID = try #require(try await emulator.invoke("rogue", #"{"wrong_id":true}"#).json)
            #expect(wrongID["wrong_id_status"]?.integer == 400)
            #expect(wrongID["reply"]?["errorType"] == .string("InvalidRequestID"))

            let oversize = try await emulator.invoke("rogue", #"{"oversize":6291557}"#)
            #expect(oversize.header("X-Amz-Function-Error") == "Unhandled")
            #expect(oversize.json?["errorType"] == .string("Function.ResponseSizeTooLarge"))
            #expect(
                oversize.json?["errorMessage"]
                    == .string(
                        "Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes)."))

            let badMode = try await emulator.invoke("rogue", #"{"bad_mode":true}"#)
            #expect(badMode.json?["errorType"] == .string("Runtime.InvalidResponseModeHeader"))

            let badType = try await emulator.invoke("rogue", #"{"bad_error_type":true}"#)
            #expect(badType.json?["errorType"] == .string("Runtime.Unknown"))
            #expect(badType.json?["errorMessage"] == .string("not json"))
            #expect(try await emulator.invoke("rogue", #"{"fine":1}"#).text == #"{"fine":1}"#)
            try await emulator.stop()
        }

        @Test func managedInstancesModeServesConcurrentInvocationsInOneEnvironment() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) {
                $0.perEnvironmentConcurrency = 4
            }
            let pids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await emulator.invoke("probe", #"{"sleep_ms":300,"context":true}"#).json?["pid"]?.integer
                    }
                }
                return try await group.reduce(into: Set<Int>()) { if let pid = $1 { $0.insert(pid) } }
            }
            #expect(pids.count == 1)
            #expect(try await emulator.stats("probe")[integer: "coldStarts"] == 1)
            let environment = try await emulator.invoke("probe", #"{"env":true}"#).json
            #expect(environment?["AWS_LAMBDA_MAX_CONCURRENCY"] == .string("4"))
            #expect(environment?["AWS_LAMBDA_INITIALIZATION_TYPE"] == .string("lambda-managed-instances"))
            try await emulator.stop()
        }

        @Test func shutdownFinishesInFlightWorkAndLeavesNoChild() async throws {
            let emulator = try await EmulatorHarness([EmulatorHarness.function("probe")]) { $0.maxConcurrency = 2 }
            async let first = emulator.invoke("probe", #"{"sleep_ms":400}"#)
            async let second = emulator.invoke("probe", #"{"sleep_ms":400}"#)
            #expect(try await EmulatorHarness.eventually { EmulatorHarness.children(named: "bootstrap").count == 2 })
            try await Task.sleep(for: .milliseconds(100))
            try await emulator.stop()
            #expect(try await first.status == 200)
            #expect(try await second.status == 200)
            #expect(EmulatorHarness.children(named: "bootstrap").isEmpty)
        }
    }
}
