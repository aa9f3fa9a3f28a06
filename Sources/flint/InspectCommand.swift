import ArgumentParser
import FlintJSON
import FlintModel

/// `flint inspect`: what a model file holds, in a few lines; the full metadata and the tensor table on request.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what a model file is: its task, labels, prompts, pooling, tokens and weights.")

    @Argument(help: "The .flint model file.")
    var model: String
    @Flag(help: "Also verify the full SHA-256 checksum.")
    var verify = false
    @Flag(help: "Print the full metadata as one JSON object instead.")
    var json = false
    @Flag(help: "Also list every tensor: name, type, shape and bytes.")
    var tensors = false

    func run() throws {
        let file = try ModelFile.open(model, verifyChecksum: verify)
        if json {
            print(String(decoding: file.metadata.jsonBytes, as: UTF8.self))
        } else {
            print("\(model): \(file.size) bytes, format version \(file.version)\(verify ? ", SHA-256 verified" : "")")
            for line in ModelSummary.lines(file) { print("  " + line) }
        }
        guard tensors else { return }
        for name in file.tensorNames {
            let tensor = file.tensors[name]!
            print("  \(name)  \(tensor.dataType.name)  \(tensor.shape)  \(tensor.dataLength + tensor.scaleCount * 4) B")
        }
    }
}
