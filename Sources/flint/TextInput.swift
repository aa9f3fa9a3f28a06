import ArgumentParser
import FlintJSON

/// The texts `flint tokenize` and `flint embed` read from standard input: one JSON string or `{"text": ...}`
/// object per line, or plain lines. A line that is neither is an error naming its number.
enum TextInput {
    /// The text of input line `number`.
    static func text(of line: String, number: Int, plain: Bool) throws -> String {
        if plain { return line }
        let value = try json(line, number: number)
        guard let text = value.string ?? value["text"]?.string else {
            throw ValidationError("line \(number): expected a JSON string or {\"text\": ...}, got \(value.typeName)")
        }
        return text
    }

    /// Line `number` parsed as JSON.
    static func json(_ line: String, number: Int) throws -> JSONValue {
        do { return try JSONValue(parsing: line) } catch { throw ValidationError("line \(number): \(error)") }
    }
}
