import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing

/// `flint quantize`, `flint inspect` and `flint tokenize` as users run them.
@Suite struct ModelCLITests {
    static let flint: String = {
        let runner =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: runner).deletingLastPathComponent().appendingPathComponent("flint").path
    }()

    static func run(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, error: String)
    {
        try CommandRun.run(flint, arguments, input: input)
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
        #expect(inspect.output.contains("model: tiny (BertModel): 2 layers, hidden 16, 4 heads, feed-forward 32"))
        #expect(inspect.output.contains("task: sentence embedding, mean pooling, not normalized"))
        let metadata = try Self.run(["inspect", model, "--json"])
        #expect(metadata.output.contains(#""modelName":"tiny""#))

        let tokenized = try Self.run(
            ["tokenize", "--model", model], input: "\"Hello worlds!\"\n{\"text\": \"playing\"}\n")
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
        let levels = try Self.run(["quantize", bert.directory.path, "-o", model, "--word-embedding-levels", "200"])
        #expect(levels.status != 0 && levels.error.contains("--word-embedding-levels must be within 1...127, not 200"))
        // Calibrated quantization needs its texts.
        for (arguments, message) in [
            (["--smoothing", "0.5"], "--smoothing needs --calibration texts"),
            (["--rounding", "gptq"], "--rounding gptq needs --calibration texts"),
            (["--smoothing", "2"], "--smoothing must be within 0...1"),
            (["--float32", "--rounding", "gptq"], "--float32 keeps every weight in f32"),
        ] {
            let refused = try Self.run(["quantize", bert.directory.path, "-o", model] + arguments)
            #expect(refused.status != 0 && refused.error.contains(message), "\(arguments): \(refused.error)")
        }
        // With them: the tiny model's inputs smoothed and its weights GPTQ-rounded, said in one line.
        let texts = bert.directory.appendingPathComponent("calibration.jsonl").path
        try (0..<12).map { "\"hello world\(String(repeating: " the playing", count: $0 % 4))!\"" }
            .joined(separator: "\n").write(toFile: texts, atomically: true, encoding: .utf8)
        let calibrated = try Self.run(["quantize", bert.directory.path, "-o", model, "--calibration", texts])
        #expect(calibrated.status == 0, "\(calibrated.error)")
        #expect(
            calibrated.output.contains("calibration: 12 texts")
                && calibrated.output.contains("GPTQ-rounded, inputs smoothed (α 0.35)"), "\(calibrated.output)")
        #expect(try ModelFile.open(model).tensors["encoder.layer.0.output.dense.input_smoothing"] != nil)
    }

    @Test func embedWritesJSONLinesAndNPY() throws {
        let bert = try TinyBert()
        defer { bert.remove() }
        let model = bert.directory.appendingPathComponent("tiny.flint").path
        #expect(try Self.run(["quantize", bert.directory.path, "-o", model]).status == 0)
        let embedded = try Self.run(["embed", "--model", model], input: "\"hello world\"\n{\"text\": \"play\"}\n")
        #expect(embedded.status == 0, "\(embedded.error)")
        let rows = try embedded.output.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        #expect(rows.count == 2 && rows.allSatisfy { $0.array?.count == 16 })
        let reference = try Self.run(["embed", "--model", model, "--reference"], input: "\"hello world\"\n")
        let fast = rows[0].array!.compactMap(\.number),
            slow = try JSONValue(parsing: reference.output).array!.compactMap(\.number)
        let dot = zip(fast, slow).map(*).reduce(0, +)
        let cosine =
            dot / (fast.map { $0 * $0 }.reduce(0, +).squareRoot() * slow.map { $0 * $0 }.reduce(0, +).squareRoot())
        #expect(cosine > 0.99, "int8 and reference paths disagree: cosine \(cosine)")

        let npy = bert.directory.appendingPathComponent("out.npy").path
        #expect(
            try Self.run(["embed", "--model", model, "--lines", "--npy", npy], input: "hello\nworld\nplay\n").status
                == 0)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: npy)))
        #expect(bytes.starts(with: [0x93] + Array("NUMPY".utf8) + [1, 0]))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (3, 16)"))
        #expect(bytes.count == 10 + headerLength + 3 * 16 * 4)

        let bad = try Self.run(["embed", "--model", model], input: "[1, 2]\n")
        #expect(bad.status != 0 && bad.error.contains("line 1: expected a JSON string or {\"text\": ...}, got array"))

        // Packed batches (five texts in batches of 2: the last one short) and a given thread count give the same
        // lines as one text at a time.
        let five = "\"hello world\"\n\"play\"\n\"worlds playing hello\"\n\"a\"\n\"hello\"\n"
        let single = try Self.run(["embed", "--model", model], input: five)
        let batched = try Self.run(
            ["embed", "--model", model, "--batch", "2", "--threads", "2", "--unbuffered"], input: five)
        #expect(single.status == 0 && batched.status == 0, "\(batched.error)")
        let one = try single.output.split(separator: "\n").map {
            try JSONValue(parsing: String($0)).array!.compactMap(\.number)
        }
        let two = try batched.output.split(separator: "\n").map {
            try JSONValue(parsing: String($0)).array!.compactMap(\.number)
        }
        #expect(one.count == 5 && two.count == 5)
        #expect(zip(one, two).allSatisfy { pair in zip(pair.0, pair.1).allSatisfy { abs($0 - $1) < 1e-5 } })
        let zero = try Self.run(["embed", "--model", model, "--batch", "0"], input: five)
        #expect(zero.status != 0 && zero.error.contains("--batch must be within 1...4096, not 0"))
    }
}
