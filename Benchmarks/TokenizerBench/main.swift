// flint-tokenizer-bench: single-thread tokenizer throughput on the parity corpus, for comparison with HF's Rust
// tokenizer (Benchmarks/tokenizer_bench.py runs both, interleaved).
//
//   flint-tokenizer-bench <vocab.txt> <corpus.jsonl> [rounds]     prints one line: tokens/s and texts/s
import FlintJSON
import Foundation
import WordPiece

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: flint-tokenizer-bench <vocab.txt> <corpus.jsonl> [rounds]\n".utf8))
    exit(2)
}
let vocabularyBytes = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let setupStart = DispatchTime.now().uptimeNanoseconds
let vocabulary = Vocabulary(vocabularyText: vocabularyBytes)
let vocabularyDone = DispatchTime.now().uptimeNanoseconds
let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary)
_ = tokenizer.encode("warm")
let setupDone = DispatchTime.now().uptimeNanoseconds
let texts = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n").compactMap {
    try JSONValue(parsing: String($0))["text"]?.string
}
let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
var best = Double.infinity
var tokens = 0
for _ in 0..<rounds {
    let start = DispatchTime.now().uptimeNanoseconds
    tokens = 0
    for text in texts { tokens += tokenizer.encode(text).ids.count }
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
print(String(format: "flint setup: vocabulary %.2f ms, Unicode tables %.2f ms",
             Double(vocabularyDone - setupStart) / 1e6, Double(setupDone - vocabularyDone) / 1e6))
print(String(format: "flint: %.0f tokens/s, %.0f texts/s (%d texts, %d tokens, best of %d rounds)",
             Double(tokens) / best, Double(texts.count) / best, texts.count, tokens, rounds))
