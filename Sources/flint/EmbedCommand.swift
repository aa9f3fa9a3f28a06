import ArgumentParser
import Embedder
import FlintJSON
import FlintModel
import FlintSystem
import Foundation
import WordPiece

/// `flint embed`: texts from standard input to embeddings.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract:
            "Embed texts from standard input (one JSON string or {\"text\": ...} per line; plain lines with --lines).",
        discussion: "Writes one JSON array per line, or all embeddings as a float32 .npy file with --npy."
    )

    @Option(help: "The .flint model file.")
    var model: String
    @Option(help: "Write a float32 .npy (texts × dimensions) here instead of JSON lines.")
    var npy: String?
    @Flag(help: "Read plain lines instead of JSON.")
    var lines = false
    @Flag(help: "Use the f32 reference path (dequantized weights, plain loops) instead of int8.")
    var reference = false
    @Option(help: "Embed this many texts per packed forward pass (the same vectors as one at a time).")
    var batch = 1
    @Option(help: "Intra-op threads (default: FLINT_THREADS, else the CPUs this process may use).")
    var threads: Int?
    @Flag(help: "Write each batch's lines as soon as they are ready (for driving the CLI line by line).")
    var unbuffered = false
    @Option(help: "Embed with the model's prompt of this name (default: its default prompt, if any).")
    var promptName: String?

    func validate() throws {
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be within 1...4096, not \(batch)") }
        if let threads, !(1...16).contains(threads) {
            throw ValidationError("--threads must be within 1...16, not \(threads)")
        }
    }

    func run() throws {
        // The FLINT_* settings as a bootstrap reads them, --threads over FLINT_THREADS; applied before the encoder's
        // init, which sizes its scratch by the pool.
        var compute: ComputeSettings
        do { compute = try ComputeSettings(lookup: { getenv($0).map { String(cString: $0) } }) } catch {
            throw ValidationError(error.description)
        }
        if let threads { compute.threads = threads }
        do { try compute.apply() } catch { throw ValidationError(error.description) }
        let file = try ModelFile.open(model)
        let tokenizer = try file.tokenizer()
        let encoder = try Encoder(
            model: file, precision: reference ? .float32 : .int8, activationGroup: compute.activationGroup)
        let prompt: String
        do { prompt = try Prompts(task: encoder.configuration.task).text(for: promptName) } catch {
            throw ValidationError(
                "--prompt-name \(promptName ?? "") is not one of the model's prompts (\(error.accepted.joined(separator: ", ")))"
            )
        }
        if encoder.configuration.task.classifier != nil {
            throw ValidationError("\(model) is a sequence classifier, not an embedding model (use flint classify)")
        }
        var vectors: [[Float]] = []
        var number = 0
        // JSON lines written straight as bytes (each float in its shortest form that reads back the same) and
        // sent with one write: the comparison scripts drive this command a text at a time.
        var output: [UInt8] = []
        var pending: [[Int32]] = []
        func flush() {
            guard !pending.isEmpty else { return }
            for vector in encoder.embed(batch: pending) {
                if npy != nil {
                    vectors.append(vector)
                } else {
                    output.append(UInt8(ascii: "["))
                    for (index, value) in vector.enumerated() {
                        if index > 0 { output.append(UInt8(ascii: ",")) }
                        JSONText.appendFloat(value, to: &output)
                    }
                    output.append(contentsOf: "]\n".utf8)
                }
            }
            pending.removeAll(keepingCapacity: true)
            if unbuffered || output.count > 1 << 16 {
                FileDescriptor.writeAll(1, output)
                output.removeAll(keepingCapacity: true)
            }
        }
        while let line = readLine(strippingNewline: true) {
            number += 1
            let text = try TextInput.text(of: line, number: number, plain: lines)
            pending.append(tokenizer.encode(prompt + text).ids)
            if pending.count == batch { flush() }
        }
        flush()
        FileDescriptor.writeAll(1, output)
        if let npy { try Self.writeNPY(vectors, dimensions: encoder.configuration.hiddenSize, to: npy) }
    }

    /// NumPy's .npy v1.0: magic, header dict padded to 64 bytes, then little-endian float32 rows.
    static func writeNPY(_ rows: [[Float]], dimensions: Int, to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(dimensions)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        for row in rows {
            for value in row { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
