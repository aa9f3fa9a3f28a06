import FlintJSON
import Foundation
import Testing

/// deploy/template.yaml through cfn-lint, and deploy/deploy against a local stand-in for the AWS API (moto's
/// server on loopback): create, update, publish, alias, rollback, and clear errors.
extension EmulatorIntegration {
    @Suite(.timeLimit(.minutes(5)))
    struct DeployTests {
        static func installed(_ tool: String) -> Bool {
            (try? PackageTests.run(["sh", "-c", "command -v \(tool)"]).status) == 0
        }
        static let lint = installed("cfn-lint")
        static let moto = installed("moto_server") && installed("aws")

        @Test(.enabled(if: lint, "cfn-lint is not installed (deploy/test installs it)"))
        func templatePassesCfnLintAndSaysWhatTheIssueAsks() throws {
            let template = "\(CLITests.repository)/deploy/template.yaml"
            let result = try PackageTests.run(["cfn-lint", template])
            #expect(result.status == 0, "cfn-lint: \(result.output)\(result.error)")
            let text = try String(contentsOfFile: template, encoding: .utf8)
            for required in [
                "Transform: AWS::Serverless-2016-10-31", "Type: AWS::Serverless::Function", "Runtime: provided.al2023",
                "Handler: !Ref HandlerName", "Architectures: [!Ref Architecture]", "LogFormat: JSON", "Tracing: Active",
                "AuthType: !Ref FunctionUrlAuthType", "Default: AWS_IAM", "ReportBatchItemFailures",
                "MaximumConcurrency:",
                "MaximumBatchingWindowInSeconds:", "deadLetterTargetArn", "ReservedConcurrentExecutions:",
                "AutoPublishAlias: live", "ProvisionedConcurrentExecutions:", "OnFailure:", "DeploymentPreference:",
                "Type: AWS::CloudWatch::Dashboard", "Default: Canary10Percent5Minutes",
            ] {
                #expect(text.contains(required), "the template lacks \(required)")
            }
            #expect(!text.contains("Action: \"*\"") && !text.contains("AdministratorAccess"), "least privilege")
            // cfn-lint does check: a broken copy fails.
            let broken = NSTemporaryDirectory() + "flint-template-\(UUID().uuidString).yaml"
            try text.replacingOccurrences(of: "Runtime: provided.al2023", with: "Runtime: provided.al2099")
                .write(toFile: broken, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: broken) }
            let failed = try PackageTests.run(["cfn-lint", broken])
            #expect(failed.status != 0 && failed.output.contains("provided.al2099"), "\(failed.output)")
        }

        /// `--help` prints the script's usage text, not its code.
        @Test(arguments: ["deploy", "package", "build-bootstrap"])
        func helpPrintsUsage(script: String) throws {
            let result = try PackageTests.run(["\(CLITests.repository)/deploy/\(script)", "--help"])
            #expect(result.status == 0)
            #expect(result.output.contains("deploy/\(script)"), "\(result.output)")
            for code in ["set -euo pipefail", "#!/usr/bin/env", "\n# ", "root=$("] {
                #expect(!result.output.contains(code), "--help printed code: \(result.output)")
            }
        }

        /// moto's server on a free loopback port; `stop` ends it.
        static func startMoto() throws -> (endpoint: String, stop: () -> Void) {
            let port = 20_000 + Int(getpid() % 20_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let endpoint = "http://127.0.0.1:\(port)"
            for _ in 0..<100 where (try? PackageTests.run(["curl", "-s", "-o", "/dev/null", endpoint]).status) != 0 {
                usleep(100_000)
            }
            // moto's server does not stop on SIGTERM.
            return (
                endpoint,
                {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
            )
        }

        @Test(.enabled(if: moto, "moto[server] or the AWS CLI is not installed (deploy/test installs them)"))
        func deployCreatesUpdatesPublishesAndRollsBack() throws {
            let (endpoint, stop) = try Self.startMoto()
            defer { stop() }
            let credentials = [
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
            ]
            func deploy(
                _ arguments: [String], environment: [String: String] = credentials
            ) throws -> (status: Int32, output: String, error: String) {
                try PackageTests.run(
                    ["deploy/deploy"] + arguments + ["--endpoint-url", endpoint], environment: environment)
            }
            func aws(_ arguments: [String]) throws -> JSONValue {
                let result = try PackageTests.run(
                    ["aws", "--endpoint-url", endpoint, "--output", "json"] + arguments, environment: credentials)
                return try JSONValue(parsing: result.output)
            }
            let (zip, _) = try PackageTests.package([
                "echo", "--bootstrap", PackageTests.releaseBootstrap ?? EmulatorHarness.bootstrap,
            ])
            #expect(zip.hasSuffix("echo.zip"))

            var noKeys = credentials
            noKeys["AWS_ACCESS_KEY_ID"] = ""
            noKeys["AWS_SECRET_ACCESS_KEY"] = ""
            let unauthenticated = try deploy(["echo"], environment: noKeys)
            #expect(
                unauthenticated.status != 0 && unauthenticated.error.contains("no usable AWS credentials"),
                "\(unauthenticated.error)")
            let noRole = try deploy(["echo"])
            #expect(noRole.status != 0 && noRole.error.contains("creating it needs --role"), "\(noRole.error)")
            let missing = try deploy(["echo", "--name", "flint-nothing", "--rollback"])
            #expect(missing.status != 0 && missing.error.contains("cannot roll back flint-nothing"), "\(missing.error)")

            let role = try aws([
                "iam", "create-role", "--role-name", "flint-test", "--assume-role-policy-document",
                #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            ])
            let roleARN = try #require(role["Role"]?["Arn"]?.string)
            let created = try deploy(["echo", "--role", roleARN])
            #expect(
                created.status == 0 && created.output.hasSuffix(":function:flint-echo:live 1\n"),
                "\(created.output)\(created.error)")
            let function = try aws(["lambda", "get-function", "--function-name", "flint-echo"])
            #expect(
                function["Configuration"]?["Runtime"] == .string("provided.al2023")
                    && function["Configuration"]?["Handler"] == .string("echo"))
            #expect(
                function["Configuration"]?["MemorySize"] == .number(128)
                    && function["Configuration"]?["Timeout"] == .number(3), "from function.json")

            let updated = try deploy(["echo"])
            #expect(
                updated.status == 0 && updated.output.hasSuffix("live 2\n")
                    && updated.error.contains("updating its code"), "\(updated.error)")
            #expect(
                try aws(["lambda", "get-alias", "--function-name", "flint-echo", "--name", "live"])["FunctionVersion"]
                    == .string("2"))

            let rolledBack = try deploy(["echo", "--rollback"])
            #expect(
                rolledBack.status == 0 && rolledBack.error.contains("moved back from version 2 to 1"),
                "\(rolledBack.error)")
            #expect(
                try aws(["lambda", "get-alias", "--function-name", "flint-echo", "--name", "live"])["FunctionVersion"]
                    == .string("1"))
            let nothingEarlier = try deploy(["echo", "--rollback"])
            #expect(
                nothingEarlier.status != 0 && nothingEarlier.error.contains("no earlier version"),
                "\(nothingEarlier.error)")
        }
    }
}
