import FlintJSON
import Foundation
import Testing

/// `flint quantize`, `flint inspect` and `flint tokenize` as users run them.
@Suite struct ModelCLITests {
    static let flint: String = {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: runner).deletingLastPathComponent().appendingPathComponent("flint").path
    }()

    static func run(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: flint)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func quantizeInspectTokenize() throws {
        let bert = try TinyBert()
        defer { bert.remove() }
        let model = bert.directory.appendingPathComponent("tiny.flint").path
        let quantize = try Self.run(["quantize", bert.directory.path, "-o", model, "--name", "tiny"])
        #expect(quantize.status == 0, "\(quantize.error)")
        #expect(quantize.output.contains("encoder.layer.0.attention.self.query.weight [16, 16] i8"))
        #expect(quantize.output.contains("relative error of int8 tensors: mean"))

        let inspect = try Self.run(["inspect", model, "--verify"])
        #expect(inspect.status == 0)
        #expect(inspect.output.contains("SHA-256 verified"))
        #expect(inspect.output.contains(#""modelName":"tiny""#))

        let tokenized = try Self.run(["tokenize", "--model", model], input: "\"Hello worlds!\"\n{\"text\": \"playing\"}\n")
        #expect(tokenized.output == "[2,5,6,7,8,3]\n[2,13,12,3]\n")
        let lines = try Self.run(["tokenize", "--model", model, "--lines"], input: "hello\n\"hello\"\n")
        #expect(lines.output == "[2,5,3]\n[2,1,5,1,3]\n")
        let pairs = try Self.run(["tokenize", "--model", model, "--pairs"], input: "[\"hello\", \"world\"]\n")
        #expect(pairs.output == "{\"ids\":[2,5,3,6,3],\"type_ids\":[0,0,0,1,1]}\n")

        let bad = try Self.run(["tokenize", "--model", model], input: "\"ok\"\n42\n")
        #expect(bad.status != 0)
        #expect(bad.error.contains("line 2: expected a JSON string or {\"text\": ...}, got number"))
        let missing = try Self.run(["quantize", "/nonexistent", "-o", model])
        #expect(missing.status != 0)
        #expect(missing.error.contains("/nonexistent/config.json is missing"))
    }
}
