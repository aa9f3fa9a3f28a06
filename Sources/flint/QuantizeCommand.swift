import ArgumentParser
import FlintModel
import Foundation

/// `flint quantize`: a BERT checkpoint directory to a Flint model file.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a BERT checkpoint (config.json, model.safetensors, vocab.txt, ...) into a .flint model file."
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

    func run() throws {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL
        let modelName = name ?? (folder.lastPathComponent == "model" ? folder.deletingLastPathComponent().lastPathComponent : folder.lastPathComponent)
        let (bytes, report) = try Quantizer.quantize(directory: folder.path, modelName: modelName, float32: float32)
        try ModelWriter.write(bytes, to: output)
        let quantized = report.tensors.filter { $0.dataType.isQuantized }
        let worst = quantized.max { $0.relativeError < $1.relativeError }
        let mean = quantized.map(\.relativeError).reduce(0, +) / Double(max(1, quantized.count))
        for tensor in report.tensors where verbose || tensor.dataType.isQuantized {
            print("  \(tensor.name) \(tensor.shape) \(tensor.dataType.name) \(tensor.storedBytes) B"
                + (tensor.dataType.isQuantized ? String(format: ", relative error %.5f", tensor.relativeError) : ""))
        }
        print("flint quantize: \(output): \(report.fileBytes) bytes (\(String(format: "%.2f", Double(report.fileBytes) / 1e6)) MB) "
            + "from \(report.sourceBytes) bytes of weights; \(report.tensors.count) tensors, \(quantized.count) int8")
        print(String(format: "  relative error of int8 tensors: mean %.5f, worst %.5f (%@)", mean, worst?.relativeError ?? 0, worst?.name ?? "-"))
    }
}
