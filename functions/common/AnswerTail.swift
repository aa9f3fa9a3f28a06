import FlintJSON

/// The members every function's answer ends with, written one way: `"model"` and OpenAI's `"usage"`
/// (`prompt_tokens` and `total_tokens`, equal for an encoder).
enum AnswerTail {
    /// Appends `,"model":…,"usage":{"prompt_tokens":N,"total_tokens":N}}`, closing the answer's object.
    static func write(model: String, tokens: Int, into out: inout [UInt8]) {
        out.append(contentsOf: #","model":"#.utf8)
        JSONText.appendString(model, to: &out)
        out.append(contentsOf: #","usage":"#.utf8)
        writeUsage(tokens: tokens, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the usage object alone: `{"prompt_tokens":N,"total_tokens":N}`.
    static func writeUsage(tokens: Int, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"prompt_tokens":"#.utf8)
        JSONText.appendNumber(Double(tokens), to: &out)
        out.append(contentsOf: #","total_tokens":"#.utf8)
        JSONText.appendNumber(Double(tokens), to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
