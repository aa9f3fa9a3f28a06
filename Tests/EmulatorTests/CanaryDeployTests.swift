import FlintJSON
import FlintModel
import Foundation
import Testing

/// `deploy/deploy --canary` against moto's server: a version carries its model in its description, a quiet canary
/// is promoted, an alarm set to ALARM during the window rolls it back, and what is missing is one line.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(5)))
    struct CanaryDeployTests {
        static let credentials = [
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
        ]

        @Test(
            .enabled(if: DeployTests.moto, "moto[server] or the AWS CLI is not installed (deploy/test installs them)"))
        func canaryPromotesWhenQuietAndRollsBackOnAnAlarm() throws {
            let (endpoint, stop) = try DeployTests.startMoto()
            defer { stop() }
            func deploy(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
                try PackageTests.run(
                    ["deploy/deploy"] + arguments + ["--name", "flint-canary", "--endpoint-url", endpoint],
                    environment: Self.credentials)
            }
            func aws(_ arguments: [String]) throws -> JSONValue {
                let result = try PackageTests.run(
                    ["aws", "--endpoint-url", endpoint, "--output", "json"] + arguments, environment: Self.credentials)
                return try JSONValue(parsing: result.output)
            }
            func live() throws -> JSONValue {
                try aws(["lambda", "get-alias", "--function-name", "flint-canary", "--name", "live"])
            }
            // A package with a model: the tiny BERT, so its name and checksum go into each version's description.
            let model = NSTemporaryDirectory() + "flint-canary-\(UUID().uuidString).flint"
            let bytes = try Quantizer.quantize(directory: EmbedFunctionTests.tinyBert, modelName: "tiny").bytes
            try ModelWriter.write(bytes, to: model)
            let (zip, _) = try PackageTests.package([
                "embed", "--bootstrap", PackageTests.releaseBootstrap ?? EmulatorHarness.bootstrap, "--model", model,
            ])
            let digest = try PackageTests.run(["sha256sum", model]).output.prefix(64)

            let noAlias = try deploy(["embed", "--zip", zip, "--canary", "10"])
            #expect(
                noAlias.status != 0 && noAlias.error.contains("a canary needs the live alias to shift traffic from"),
                "\(noAlias.error)")
            let badPercent = try deploy(["embed", "--zip", zip, "--canary", "150"])
            #expect(badPercent.status != 0 && badPercent.error.contains("--canary takes a percentage"))
            let role = try aws([
                "iam", "create-role", "--role-name", "flint-canary", "--assume-role-policy-document",
                #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ])
            let first = try deploy(["embed", "--zip", zip, "--role", try #require(role["Role"]?["Arn"]?.string)])
            #expect(first.status == 0 && first.output.hasSuffix("live 1\n"), "\(first.error)")

            // A quiet canary is promoted after its window.
            let promoted = try deploy([
                "embed", "--zip", zip, "--canary", "10", "--minutes", "0.05", "--poll-seconds", "1",
            ])
            #expect(promoted.status == 0 && promoted.output.hasSuffix("live 2\n"), "\(promoted.error)")
            #expect(promoted.error.contains("promoted: version 2 had 10% of live"), "\(promoted.error)")
            #expect(try live()["FunctionVersion"] == .string("2"))
            let versions = try aws(["lambda", "list-versions-by-function", "--function-name", "flint-canary"])
            let descriptions = (versions["Versions"]?.array ?? []).compactMap { $0["Description"]?.string }
            #expect(descriptions.filter { $0 == "model tiny sha256 \(digest)" }.count == 2, "\(descriptions)")
            let alarms = try aws(["cloudwatch", "describe-alarms", "--alarm-name-prefix", "flint-canary-canary-"])
            let byName = Dictionary(
                uniqueKeysWithValues: (alarms["MetricAlarms"]?.array ?? []).map { ($0["AlarmName"]!.string!, $0) })
            #expect(byName.count == 4)
            let drift = try #require(byName["flint-canary-canary-drift"])
            #expect(drift["Namespace"] == .string("Flint") && drift["MetricName"] == .string("DriftMeanDistance"))
            #expect(
                drift["Dimensions"]?.array?.compactMap { $0["Value"]?.string } == ["flint-canary", "2"],
                "the drift alarm watches the new version")

            // An alarm in ALARM during the window rolls the canary back.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "deploy/deploy", "embed", "--zip", zip, "--canary", "20", "--minutes", "1", "--poll-seconds", "1",
                "--name", "flint-canary", "--endpoint-url", endpoint,
            ]
            process.currentDirectoryURL = URL(fileURLWithPath: CLITests.repository)
            process.environment = ProcessInfo.processInfo.environment.merging(Self.credentials) { $1 }
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            try process.run()
            var shifted = false
            for _ in 0..<120 where !shifted {
                shifted = try live()["RoutingConfig"]?["AdditionalVersionWeights"]?["3"]?.number == 0.2
                if !shifted { usleep(250_000) }
            }
            #expect(shifted, "20% of live went to version 3")
            _ = try PackageTests.run(
                [
                    "aws", "--endpoint-url", endpoint, "cloudwatch", "set-alarm-state", "--alarm-name",
                    "flint-canary-canary-errors", "--state-value", "ALARM", "--state-reason", "3 errors in a minute",
                ], environment: Self.credentials)
            let errorText = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            _ = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(
                errorText.contains(
                    "rolled back: version 3 had 20% of live for")
                    && errorText.contains(
                        "flint-canary-canary-errors is ALARM (3 errors in a minute); live stays on version 2"),
                "\(errorText)")
            let after = try live()
            #expect(after["FunctionVersion"] == .string("2"))
            #expect(after["RoutingConfig"]?["AdditionalVersionWeights"]?["3"] == nil)
        }
    }
}
