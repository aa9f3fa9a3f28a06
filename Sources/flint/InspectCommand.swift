import ArgumentParser
import FlintJSON
import FlintModel

/// `flint inspect`: a model file's metadata and tensor table.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print a model file's metadata and tensor table.")

    @Argument(help: "The .flint model file.")
    var model: String
    @Flag(help: "Also verify the full SHA-256 checksum.")
    var verify = false

    func run() throws {
        let file = try ModelFile.open(model, verifyChecksum: verify)
        print("\(model): \(file.size) bytes, format version 1\(verify ? ", SHA-256 verified" : "")")
        print(String(decoding: file.metadata.jsonBytes, as: UTF8.self))
        for name in file.tensorNames {
            let tensor = file.tensors[name]!
            print("  \(name)  \(tensor.dataType.name)  \(tensor.shape)  \(tensor.dataLength + tensor.scaleCount * 4) B")
        }
    }
}
