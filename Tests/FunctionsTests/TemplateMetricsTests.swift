import Embedder
import FlintJSON
import FlintModel
import Foundation
import Functions
import LambdaRuntime
import Testing
import WordPiece

/// deploy/template.yaml's alarms and dashboard name exactly the metrics the functions emit: the EMF namespace,
/// metric names and dimension sets read from real EMF lines (an embed invocation and a drift report), Lambda's own
/// metrics and dimensions by their documented names.
@Suite(.timeLimit(.minutes(2)))
struct TemplateMetricsTests {
    static let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../deploy/template.yaml").standardizedFileURL.path

    /// The template as JSON (CloudFormation's short tags as one-key objects), through python's yaml; nil when
    /// python3 or its yaml module is missing (deploy/test installs cfn-lint, which brings it).
    static let document: JSONValue? = {
        let script = """
            import json, sys, yaml
            class Loader(yaml.SafeLoader): pass
            def tag(loader, suffix, node):
                if isinstance(node, yaml.ScalarNode): return {suffix: loader.construct_scalar(node)}
                if isinstance(node, yaml.SequenceNode): return {suffix: loader.construct_sequence(node, deep=True)}
                return {suffix: loader.construct_mapping(node, deep=True)}
            Loader.add_multi_constructor("!", tag)
            print(json.dumps(yaml.load(open(sys.argv[1]), Loader=Loader)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, template]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? try? JSONValue(parsing: Array(data)) : nil
    }()

    /// What the functions emit: (namespace, metric names, dimension sets), from an embed invocation on a model with a
    /// reference profile and a drift window that reports at once.
    static func emitted() throws -> (namespace: String, metrics: Set<String>, dimensionSets: Set<[String]>) {
        let folder = URL(fileURLWithPath: FunctionFixture.tinyBert).path
        let plain = try ModelFile(bytes: Quantizer.quantize(directory: folder, modelName: "tiny").bytes)
        let texts = (0..<12).map { "w\($0) w\($0 + 1) w\($0 + 2)" }
        let profile = ReferenceProfile(
            texts: texts, tokenizer: try plain.tokenizer(), encoder: try Encoder(model: plain))
        let path = NSTemporaryDirectory() + "flint-template-\(UUID().uuidString).flint"
        try ModelWriter.write(
            try Quantizer.quantize(
                directory: folder, modelName: "tiny", extraMetadata: ["referenceProfile": profile.json]
            )
            .bytes, to: path)
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let embed = try FunctionFixture.handler(
            "embed", configuration: ["drift": .object(["intervalSeconds": .number(0), "minTexts": .number(1)])],
            variables: ["FLINT_MODEL": path], output: ends[1])
        _ = try FunctionFixture.invoke(embed, #"{"input":["w1 w2","w3"]}"#)
        close(ends[1])
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        close(ends[0])
        var namespace = "", metrics = Set<String>(), sets = Set<[String]>()
        for line in bytes.split(separator: 0x0A) {
            for directive in try JSONValue(parsing: Array(line))["_aws"]?["CloudWatchMetrics"]?.array ?? [] {
                namespace = directive["Namespace"]?.string ?? ""
                metrics.formUnion((directive["Metrics"]?.array ?? []).compactMap { $0["Name"]?.string })
                for set in directive["Dimensions"]?.array ?? [] { sets.insert((set.array ?? []).compactMap(\.string)) }
            }
        }
        return (namespace, metrics, sets)
    }

    @Test(
        .enabled(
            if: document != nil, "python3 with yaml is not installed (deploy/test installs cfn-lint, which has it)"))
    func alarmsAndDashboardNameWhatTheFunctionsEmit() throws {
        let emitted = try Self.emitted()
        #expect(emitted.metrics.isSuperset(of: ["DriftMeanDistance", "DriftPSI", "ColdStart", "Tokens"]))
        let document = try #require(Self.document)
        let namespaceDefault = document["Parameters"]?["MetricsNamespace"]?["Default"]?.string
        #expect(
            namespaceDefault == emitted.namespace, "the template's namespace is the functions' (\(emitted.namespace))")
        let resources = try #require(document["Resources"]?.object)
        // Lambda's own metrics, by the names and dimensions AWS documents.
        let lambdaMetrics: Set<String> = ["Errors", "Throttles", "Duration", "Invocations"]
        let lambdaDimensions: Set<String> = ["FunctionName", "Resource", "ExecutedVersion"]
        var alarms: [String] = []
        for (name, resource) in resources where resource["Type"] == .string("AWS::CloudWatch::Alarm") {
            alarms.append(name)
            let properties = try #require(resource["Properties"])
            let metric = try #require(properties["MetricName"]?.string)
            let dimensions = (properties["Dimensions"]?.array ?? []).compactMap { $0["Name"]?.string }
            if properties["Namespace"] == .string("AWS/Lambda") {
                #expect(lambdaMetrics.contains(metric), "\(name): \(metric)")
                #expect(Set(dimensions).isSubset(of: lambdaDimensions), "\(name): \(dimensions)")
            } else {
                #expect(properties["Namespace"] == .object(["Ref": .string("MetricsNamespace")]), "\(name)")
                #expect(emitted.metrics.contains(metric), "\(name): the functions emit no \(metric)")
                #expect(
                    emitted.dimensionSets.contains(dimensions), "\(name): no dimension set \(dimensions) is emitted")
            }
        }
        // Every alarm guards the deployment.
        let preference = resources["Function"]?["Properties"]?["DeploymentPreference"]
        let guarded = (preference?["Alarms"]?.array ?? []).compactMap { $0["Ref"]?.string }
        #expect(Set(guarded) == Set(alarms) && alarms.count == 4, "\(guarded) against \(alarms)")
        #expect(preference?["Type"] == .object(["Ref": .string("DeploymentType")]))

        // The dashboard's searches over the functions' namespace name emitted metrics and dimension sets.
        let body = try #require(resources["Dashboard"]?["Properties"]?["DashboardBody"]?["Sub"]?.array?.first?.string)
        var searched = 0
        for match in body.matches(of: /SEARCH\('\{((?:\$\{[^}]*\}|[^}$])*)\} MetricName=\\"([A-Za-z]+)\\"/) {
            let parts = match.1.split(separator: ",").map(String.init)
            let metric = String(match.2)
            if parts[0] == "AWS/Lambda" {
                #expect(lambdaMetrics.contains(metric) && Set(parts.dropFirst()).isSubset(of: lambdaDimensions))
            } else {
                #expect(parts[0] == "${Namespace}", "the dashboard reads the namespace parameter")
                #expect(emitted.metrics.contains(metric), "the dashboard draws \(metric), which no function emits")
                #expect(emitted.dimensionSets.contains(Array(parts.dropFirst())), "\(parts)")
            }
            searched += 1
        }
        #expect(searched >= 8)
        for widget in [
            "Invocations", "Errors", "Cold starts", "Duration p50 and p99", "Tokens per request", "Drift score",
        ] {
            #expect(body.contains(widget), "the dashboard shows \(widget)")
        }
    }
}
