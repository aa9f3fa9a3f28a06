import ArgumentParser
import FlintJSON
import FlintModel
import Foundation
import WordPiece

/// `flint tokenize`: texts from standard input to token ids, one JSON array per line.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract:
            "Tokenize texts from standard input: one JSON string or {\"text\": ...} per line (plain lines with --lines).",
        discussion:
            "Prints one JSON array of ids per line; with --pairs each input is [a, b] or {\"a\": ..., \"b\": ...} and the output is {\"ids\": [...], \"type_ids\": [...]}."
    )

    @Option(help: "The .flint model file.")
    var model: String
    @Flag(help: "Read plain lines instead of JSON.")
    var lines = false
    @Flag(help: "Read sentence pairs.")
    var pairs = false

    func run() throws {
        let tokenizer = try ModelFile.open(model).tokenizer()
        var number = 0
        var output = ""
        while let line = readLine(strippingNewline: true) {
            number += 1
            if pairs {
                let value = try TextInput.json(line, number: number)
                let a = value.array?.first?.string ?? value["a"]?.string
                let b = value.array?.dropFirst().first?.string ?? value["b"]?.string
                guard let a, let b else {
                    throw ValidationError("line \(number): expected [\"a\", \"b\"] or {\"a\": ..., \"b\": ...}")
                }
                let encoding = tokenizer.encode(a, b)
                output += "{\"ids\":\(ids(encoding.ids)),\"type_ids\":\(ids(encoding.typeIDs))}\n"
            } else {
                output += ids(tokenizer.encode(try TextInput.text(of: line, number: number, plain: lines)).ids) + "\n"
            }
            if output.utf8.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(output.utf8))
                output = ""
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    private func ids(_ values: [Int32]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }
}
