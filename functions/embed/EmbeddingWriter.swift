import FlintJSON
import LambdaRuntime

/// Writes embeddings as OpenAI's clients read them, straight into the response bytes.
struct EmbeddingWriter: Sendable {
    let model: EmbeddingModel

    /// The whole answer: `{"object": "list", "data": [...], "model", "usage"}`.
    func writeList(_ vectors: [[Float]], tokens: Int, format: EmbeddingRequest.EncodingFormat, into out: inout [UInt8])
    {
        out.reserveCapacity(out.count + vectors.count * (model.dimensions * 12 + 64) + 128)
        out.append(contentsOf: #"{"object":"list","data":["#.utf8)
        for (index, vector) in vectors.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeEmbedding(vector, index: index, format: format, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        AnswerTail.write(model: model.name, tokens: tokens, into: &out)
    }

    /// One `{"object": "embedding", "index", "embedding"}` object.
    func writeEmbedding(_ vector: [Float], index: Int, format: EmbeddingRequest.EncodingFormat, into out: inout [UInt8])
    {
        out.append(contentsOf: #"{"object":"embedding","index":"#.utf8)
        JSONText.appendNumber(Double(index), to: &out)
        out.append(contentsOf: #","embedding":"#.utf8)
        switch format {
        case .float:
            out.append(UInt8(ascii: "["))
            for (position, value) in vector.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendFloat(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .base64:
            out.append(UInt8(ascii: "\""))
            vector.withUnsafeBytes { raw in
                // Little-endian float32, as OpenAI's clients decode it (every platform Flint runs on is little-endian).
                Base64.encode(raw, into: &out)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }
}
