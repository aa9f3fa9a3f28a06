import ArgumentParser
import Embedder
import FlintJSON
import FlintModel
import FlintSystem
import WordPiece

/// `flint rerank`: documents from standard input ranked against a query, on the int8 path or the f32 reference.
struct RerankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Rank documents from standard input (one JSON string or {\"text\": ...} per line) against a query.",
        discussion: """
            A cross-encoder scores each (query, document) pair through its CrossEncoder activation, as \
            sentence-transformers' CrossEncoder.predict does; an embedding model scores by the cosine of the query \
            (with its query prompt) and each document (with its document prompt), as the rerank function does. \
            Prints {"index", "relevance_score"} lines, best first. --reference runs the f32 path of a file made with \
            flint quantize --float32, to compare with the Python libraries.
            """
    )

    @Option(help: "The .flint model file.")
    var model: String
    @Option(help: "The query.")
    var query: String
    @Flag(help: "Read plain lines instead of JSON.")
    var lines = false
    @Flag(help: "Use the f32 reference path (dequantized weights, plain loops) instead of int8.")
    var reference = false
    @Flag(help: "A cross-encoder's outputs before its activation.")
    var rawScores = false
    @Option(help: "Print only the best N.")
    var topN: Int?

    func run() throws {
        let file = try ModelFile.open(model)
        let tokenizer = try file.tokenizer()
        let encoder = try Encoder(model: file, precision: reference ? .float32 : .int8)
        let task = encoder.configuration.task
        var documents: [String] = []
        while let line = readLine(strippingNewline: true) {
            documents.append(try TextInput.text(of: line, number: documents.count + 1, plain: lines))
        }
        guard !documents.isEmpty else { throw ValidationError("no documents on standard input") }
        let scores: [Float]
        if let head = task.classifier {
            guard head.labels.count == 1 else {
                throw ValidationError("\(model) classifies into \(head.labels.count) labels; rerank needs one output")
            }
            let pairs = documents.map { tokenizer.encode(query, $0) }
            let activation = rawScores ? .identity : head.crossEncoderActivation
            scores = encoder.classify(batch: pairs.map(\.ids), typeIDs: pairs.map(\.typeIDs)).map { activation($0)[0] }
        } else {
            let prompts = try Prompts(task: task)
            let vectors = encoder.embed(
                batch: [tokenizer.encode(prompts.query + query).ids]
                    + documents.map { tokenizer.encode(prompts.document + $0).ids },
                normalize: true)
            scores = vectors.dropFirst().map { zip(vectors[0], $0).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        }
        var output: [UInt8] = []
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        for index in order.prefix(topN ?? order.count) {
            output.append(contentsOf: #"{"index":"#.utf8)
            JSONText.appendNumber(Double(index), to: &output)
            output.append(contentsOf: #","relevance_score":"#.utf8)
            JSONText.appendFloat(scores[index], to: &output)
            output.append(contentsOf: "}\n".utf8)
        }
        FileDescriptor.writeAll(1, output)
    }
}
