import ArgumentParser
import Embedder
import FlintJSON
import FlintModel
import FlintSystem
import Functions
import WordPiece

/// `flint classify`: texts from standard input through a model's classification head.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract:
            "Classify texts from standard input (one JSON string or {\"text\": ...} per line) with the model's own head.",
        discussion: """
            Prints one JSON line per text: {"label", "scores": [{"label", "score"}]}, scores best first, through the \
            function the transformers text-classification pipeline applies (softmax, sigmoid for multi-label or one \
            output, none for regression) unless --function says otherwise. --reference runs the f32 path of a file \
            made with flint quantize --float32. Zero-shot classification (no head) is the classify function's.
            """
    )

    @Option(help: "The .flint model file (a sequence classifier).")
    var model: String
    @Flag(help: "Read plain lines instead of JSON.")
    var lines = false
    @Flag(help: "Use the f32 reference path (dequantized weights, plain loops) instead of int8.")
    var reference = false
    @Option(help: "softmax, sigmoid or none (default: the pipeline's choice for the model).")
    var function: String?

    func run() throws {
        let file = try ModelFile.open(model)
        let tokenizer = try file.tokenizer()
        let encoder = try Encoder(model: file, precision: reference ? .float32 : .int8)
        guard let head = encoder.configuration.task.classifier else {
            throw ValidationError("\(model) has no classification head (it is an embedding model)")
        }
        var apply = head.pipelineFunction
        if let function {
            let names: [String: ModelTask.ScoreFunction] = [
                "softmax": .softmax, "sigmoid": .sigmoid, "none": .identity,
            ]
            guard let chosen = names[function] else {
                throw ValidationError("--function must be softmax, sigmoid or none")
            }
            apply = chosen
        }
        var sequences: [[Int32]] = []
        while let line = readLine(strippingNewline: true) {
            sequences.append(
                tokenizer.encode(try TextInput.text(of: line, number: sequences.count + 1, plain: lines)).ids)
        }
        var output: [UInt8] = []
        for values in encoder.classify(batch: sequences) {
            output.append(UInt8(ascii: "{"))
            ClassifierScores.write(values, function: apply, labels: head.labels, top: head.labels.count, into: &output)
            output.append(contentsOf: "}\n".utf8)
        }
        FileDescriptor.writeAll(1, output)
    }
}
