import ArgumentParser
import Embedder
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
    @Option(help: "Quantize word embeddings onto ±N (1...127): fewer levels deflate smaller in a deployment zip.")
    var wordEmbeddingLevels = Quantizer.defaultWordEmbeddingLevels
    @Option(
        help:
            "One scale per N columns of the embedding tables (0: one a row; N must divide the hidden size; default: 64 where it divides)."
    )
    var embeddingGroup: Int?

    func validate() throws {
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
        var (bytes, report) = try Quantizer.quantize(
            directory: folder.path, modelName: modelName, float32: float32,
            wordEmbeddingLevels: wordEmbeddingLevels, embeddingGroup: embeddingGroup)
        if let calibration {
            // Profile the calibration texts with the quantized model itself, then write the file again with the
            // profile in its metadata (quantization is deterministic, so the tensors are the same bytes).
            guard let data = FileManager.default.contents(atPath: calibration) else {
                throw ValidationError("cannot read \(calibration)")
            }
            let texts = try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().compactMap {
                number, line in
                line.allSatisfy(\.isWhitespace)
                    ? nil : try TextInput.text(of: String(line), number: number + 1, plain: false)
            }
            guard texts.count >= 10 else {
                throw ValidationError("\(calibration) has \(texts.count) texts; a profile needs at least 10")
            }
            let model = try ModelFile(bytes: bytes)
            let profile = ReferenceProfile(
                texts: texts, tokenizer: try model.tokenizer(), encoder: try Encoder(model: model))
            (bytes, report) = try Quantizer.quantize(
                directory: folder.path, modelName: modelName, float32: float32,
                wordEmbeddingLevels: wordEmbeddingLevels, embeddingGroup: embeddingGroup,
                extraMetadata: ["referenceProfile": profile.json])
            print(
                "  reference profile: \(texts.count) calibration texts, unknown-token rate \(String(format: "%.4f", profile.unknownRate))"
            )
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
