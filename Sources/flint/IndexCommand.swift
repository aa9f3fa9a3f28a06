import ArgumentParser
import Embedder
import FlintJSON
import FlintModel
import Foundation
import WordPiece

/// `flint index`: a JSONL corpus to a search index file for functions/search.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Embed a JSONL corpus into a search index (.flintidx) for the search function.",
        discussion: """
            Each line is a JSON object with a "text" (or --text-field) and optionally an "id"; every other field is \
            kept as the document's metadata and returned with search results. A plain JSON string is a text \
            without metadata. Documents get their line number as id when they have none, and are embedded with the \
            model's document prompt when it has one. Prints the index path last.
            """
    )

    @Argument(help: "The corpus, one JSON document per line.")
    var corpus: String
    @Option(help: "The .flint model file (the search function must serve the same model).")
    var model: String
    @Option(name: .shortAndLong, help: "Where to write the index.")
    var output: String
    @Option(help: "The field holding each document's text.")
    var textField = "text"
    @Flag(help: "Cut texts over the model's token limit instead of refusing them.")
    var truncate = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: corpus) else {
            throw ValidationError("cannot read \(corpus)")
        }
        let file = try ModelFile.open(model)
        let tokenizer = try file.tokenizer()
        let encoder = try Encoder(model: file)
        let limit = min(encoder.configuration.maxSequenceLength, tokenizer.configuration.maxLength)
        // Documents get the model's document prompt, as the search function's queries get its query prompt.
        let prompt = try Prompts(task: encoder.configuration.task).document
        var documents: [JSONValue] = [], sequences: [[Int32]] = []
        for (offset, line) in String(decoding: data, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        ).enumerated() {
            let number = offset + 1
            if line.allSatisfy(\.isWhitespace) { continue }
            let value = try TextInput.json(String(line), number: number)
            var members = value.object ?? [:]
            if let text = value.string { members = [textField: .string(text)] }
            guard let text = members[textField]?.string, !text.isEmpty else {
                throw ValidationError(
                    "line \(number): expected an object with a non-empty \"\(textField)\" string, or a JSON string")
            }
            if members["id"] == nil { members["id"] = .number(Double(number)) }
            let ids = tokenizer.encode(prompt + text, maxLength: limit + 1).ids
            if ids.count > limit && !truncate {
                throw ValidationError(
                    "line \(number): the text has more than \(limit) tokens (pass --truncate to cut it)")
            }
            documents.append(.object(members))
            sequences.append(ids.count > limit ? Array(ids.prefix(limit - 1)) + [ids[ids.count - 1]] : ids)
        }
        guard !documents.isEmpty else { throw ValidationError("\(corpus) holds no documents") }
        let started = Date()
        var vectors: [[Float]] = []
        for start in stride(from: 0, to: sequences.count, by: 256) {
            vectors += encoder.embed(
                batch: Array(sequences[start..<min(start + 256, sequences.count)]), normalize: true)
        }
        let info: JSONValue = .object([
            "modelName": file.metadata["modelName"] ?? .string("model"),
            "modelVersion": .string(file.metadata["sourceSHA256"]?.string.map { String($0.prefix(12)) } ?? "unknown"),
            "producer": .string(Quantizer.producer),
        ])
        let bytes = try VectorIndex.encode(vectors: vectors, documents: documents, info: info)
        try ModelWriter.write(bytes, to: output)
        FileHandle.standardError.write(
            Data(
                String(
                    format: "flint index: %d documents, %d dimensions, %.1f s to embed, %d bytes\n",
                    documents.count, encoder.configuration.hiddenSize, Date().timeIntervalSince(started), bytes.count
                ).utf8))
        print(output)
    }
}
