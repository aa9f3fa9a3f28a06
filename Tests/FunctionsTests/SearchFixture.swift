import Embedder
import FlintJSON
import FlintModel
import Foundation
import LambdaRuntime
import WordPiece

/// The search function over a small index of the tiny model's own vectors.
enum SearchFixture {
    static let documents = ["w1 w2", "w3 w4 w5", "w6", "w7 w8 w9 w10", "w11 w1"]

    static func handler() throws -> any LambdaHandler {
        let file = try ModelFile.open(FunctionFixture.modelPath)
        let tokenizer = try file.tokenizer()
        let vectors = try Encoder(model: file).embed(batch: documents.map { tokenizer.encode($0).ids }, normalize: true)
        let bytes = try VectorIndex.encode(
            vectors: vectors, documents: documents.map { .object(["text": .string($0)]) },
            info: .object(["modelName": .string("tiny")]))
        let path = NSTemporaryDirectory() + "flint-functions-\(UUID().uuidString).flintidx"
        try ModelWriter.write(bytes, to: path)
        return try FunctionFixture.handler("search", variables: ["FLINT_INDEX": path])
    }
}
