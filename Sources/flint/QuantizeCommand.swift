import ArgumentParser
import Embedder
import FlintJSON
import FlintModel
import Foundation

/// `flint quantize`: a BERT checkpoint directory to a Flint model file.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract:
            "Quantize a BERT checkpoint (config.json, model.safetensors, vocab.txt, ...) into a .flint model file."
    )

    @Argument(help: "The checkpoint directory (HF / sentence-transformers layout).")
    var directory: String
    @Option(name: .shortAndLong, help: "Where to write the model file.")
    var output: String
    @Option(help: "Model name for the metadata (default: the directory's name).")
    var name: String?
    @Flag(help: "Also list the tensors kept in f32.")
    var verbose = false
    @Flag(help: "Keep every tensor in f32 (a reference model for fidelity checks; about 4× larger).")
    var float32 = false
    @Option(
        help: "Texts (one JSON string or {\"text\": ...} per line) whose profile the file keeps for drift monitoring.")
    var calibration: String?
    @Option(
        help:
            "How linear weights are rounded: gptq (against the --calibration texts' inputs, the default with them) or nearest."
    )
    var rounding: Rounding?
    @Option(
        help:
            "SmoothQuant strength α for linear inputs, from the --calibration texts (0: none; default \(InputSmoothing.defaultStrength) with them)."
    )
    var smoothing: Double?
    @Option(help: "Quantize word embeddings onto ±N (1...127): fewer levels deflate smaller in a deployment zip.")
    var wordEmbeddingLevels = Quantizer.defaultWordEmbeddingLevels
    @Option(
        help:
            "One scale per N columns of the embedding tables (0: one a row; N must divide the hidden size; default: 64 where it divides)."
    )
    var embeddingGroup: Int?

    enum Rounding: String, ExpressibleByArgument, CaseIterable { case gptq, nearest }

    func validate() throws {
        if float32 && (rounding == .gptq || (smoothing ?? 0) > 0) {
            throw ValidationError("--float32 keeps every weight in f32: --rounding gptq and --smoothing do not apply")
        }
        if rounding == .gptq && calibration == nil {
            throw ValidationError("--rounding gptq needs --calibration texts")
        }
        if let smoothing {
            guard (0...1).contains(smoothing) else { throw ValidationError("--smoothing must be within 0...1") }
            if smoothing > 0 && calibration == nil {
                throw ValidationError("--smoothing needs --calibration texts")
            }
        }
        guard (1...127).contains(wordEmbeddingLevels) else {
            throw ValidationError("--word-embedding-levels must be within 1...127, not \(wordEmbeddingLevels)")
        }
        if let embeddingGroup, embeddingGroup < 0 {
            throw ValidationError("--embedding-group must be 0 or more, not \(embeddingGroup)")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL
        let modelName =
            name
            ?? (folder.lastPathComponent == "model"
                ? folder.deletingLastPathComponent().lastPathComponent : folder.lastPathComponent)
        var texts: [String] = []
        if let calibration {
            guard let data = FileManager.default.contents(atPath: calibration) else {
                throw ValidationError("cannot read \(calibration)")
            }
            texts = try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().compactMap {
                number, line in
                line.allSatisfy(\.isWhitespace)
                    ? nil : try TextInput.text(of: String(line), number: number + 1, plain: false)
            }
            guard texts.count >= 10 else {
                throw ValidationError("\(calibration) has \(texts.count) texts; calibration needs at least 10")
            }
        }
        // Smoothing and GPTQ rounding need each linear layer's inputs on the calibration texts, from the f32 model.
        let strength = texts.isEmpty || float32 ? 0 : smoothing ?? InputSmoothing.defaultStrength
        let gptq = !texts.isEmpty && !float32 && (rounding ?? .gptq) == .gptq
        var statistics: [String: InputStatistics] = [:]
        if gptq || strength > 0 {
            let (reference, _) = try Quantizer.quantize(
                directory: folder.path, modelName: modelName, float32: true, embeddingGroup: embeddingGroup)
            statistics = try LinearCalibration.statistics(texts: texts, model: try ModelFile(bytes: reference))
        }
        // The reference profile of the calibration texts comes from the quantized model itself.
        var profiled: ReferenceProfile?
        let (bytes, report) = try Quantizer.quantize(
            directory: folder.path, modelName: modelName, float32: float32,
            wordEmbeddingLevels: wordEmbeddingLevels, embeddingGroup: embeddingGroup, inputStatistics: statistics,
            gptq: gptq,
            smoothing: strength,
            metadataFromModel: texts.isEmpty
                ? nil
                : { (model: ModelFile) throws(ModelFileError) -> [String: JSONValue] in
                    let profile = ReferenceProfile(
                        texts: texts, tokenizer: try model.tokenizer(), encoder: try Encoder(model: model))
                    profiled = profile
                    return ["referenceProfile": profile.json]
                })
        if let profiled {
            print(
                "  reference profile: \(texts.count) calibration texts, unknown-token rate \(String(format: "%.4f", profiled.unknownRate))"
            )
        }
        if !statistics.isEmpty {
            let tokens = statistics.values.first?.tokens ?? 0
            print(
                "  calibration: \(texts.count) texts (\(tokens) tokens); linear weights "
                    + (gptq ? "GPTQ-rounded" : "rounded to nearest")
                    + (strength > 0 ? ", inputs smoothed (α \(strength))" : ""))
        }
        try ModelWriter.write(bytes, to: output)
        let quantized = report.tensors.filter { $0.dataType.isQuantized }
        let worst = quantized.max { $0.relativeError < $1.relativeError }
        let mean = quantized.map(\.relativeError).reduce(0, +) / Double(max(1, quantized.count))
        for tensor in report.tensors where verbose || tensor.dataType.isQuantized {
            print(
                "  \(tensor.name) \(tensor.shape) \(tensor.dataType.name) \(tensor.storedBytes) B"
                    + (tensor.dataType.isQuantized ? String(format: ", relative error %.5f", tensor.relativeError) : "")
            )
        }
        print(
            "flint quantize: \(output): \(report.fileBytes) bytes (\(String(format: "%.2f", Double(report.fileBytes) / 1e6)) MB) "
                + "from \(report.sourceBytes) bytes of weights; \(report.tensors.count) tensors, \(quantized.count) int8"
        )
        if let worst {
            print(
                String(format: "  relative error of int8 tensors: mean %.5f, worst %.5f", mean, worst.relativeError)
                    + " (\(worst.name))")
        }
        if let model = try? ModelFile(bytes: bytes) {
            for line in ModelSummary.lines(model).dropLast() { print("  " + line) }
        }
    }
}
