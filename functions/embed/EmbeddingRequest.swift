import FlintJSON

/// An embeddings request in OpenAI's shape plus Flint's options, validated.
///
/// Fields: `input` (a string or an array of strings; token arrays are refused), `model` (optional; must name the
/// served model), `encoding_format` (`float` or `base64`), `dimensions` (optional; must equal the model's width),
/// `user` (ignored), and Flint's `normalize` (default: the model's own setting) and `truncate` (default false).
/// Any other field is refused by name, so a typo is not silently ignored.
public struct EmbeddingRequest: Equatable {
    /// How vectors are written.
    public enum EncodingFormat: String { case float, base64 }

    /// The texts, in order.
    public var inputs: [String]
    /// `float` (JSON numbers) or `base64` (little-endian float32).
    public var encodingFormat = EncodingFormat.float
    /// L2-normalise the vectors; nil leaves it to the model.
    public var normalize: Bool?
    /// Cut texts over the model's token limit instead of refusing them.
    public var truncate = false
    /// Answer as JSON lines, streamed batch by batch (Flint's option; limits `maxStreamedInputs` and
    /// `maxStreamedTotalTokens` then apply instead of `maxInputs` and `maxTotalTokens`).
    public var stream = false

    static let fields: Set<String> = ["input", "model", "encoding_format", "dimensions", "user", "normalize", "truncate", "stream"]

    /// Validates `document` against the limits and the served model.
    public init(_ document: JSONValue, limits: InputLimits, modelName: String, dimensions: Int) throws(InputError) {
        guard let members = document.object else {
            throw InputError("the request must be a JSON object with an \"input\" field, not \(document.typeName)")
        }
        let streamed = try Self.flag(members, "stream") ?? false
        var limits = limits
        if streamed {
            limits.maxInputs = limits.maxStreamedInputs
            limits.maxTotalTokens = limits.maxStreamedTotalTokens
        }
        if let unknown = members.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw InputError("unknown field \"\(unknown)\" (accepted: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        switch members["input"] {
        case nil, .null?:
            throw InputError("\"input\" is required: a string or an array of strings")
        case .string(let text)?:
            inputs = [text]
        case .array(let elements)?:
            guard !elements.isEmpty else { throw InputError("\"input\" is an empty array") }
            guard elements.count <= limits.maxInputs else {
                throw InputError("\"input\" has \(elements.count) texts; this function takes at most \(limits.maxInputs) per request")
            }
            var texts: [String] = []
            texts.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard let text = element.string else {
                    let what = element.number != nil || element.array != nil ? " (token arrays are not accepted)" : ""
                    throw InputError("input[\(index)] must be a string, not \(element.typeName)\(what)")
                }
                texts.append(text)
            }
            inputs = texts
        case let other?:
            throw InputError("\"input\" must be a string or an array of strings, not \(other.typeName)")
        }
        for (index, text) in inputs.enumerated() {
            let name = inputs.count == 1 && members["input"]?.string != nil ? "input" : "input[\(index)]"
            guard !text.isEmpty else { throw InputError("\(name) is empty") }
            let characters = text.unicodeScalars.count
            guard characters <= limits.maxCharactersPerInput else {
                throw InputError("\(name) has \(characters) characters; this function takes at most \(limits.maxCharactersPerInput)")
            }
        }
        if let model = members["model"], model != .null {
            guard model.string == modelName else {
                throw InputError("\"model\" is \(model.string.map { "'\($0)'" } ?? model.typeName); this function serves '\(modelName)'")
            }
        }
        if let format = members["encoding_format"], format != .null {
            guard let name = format.string, let parsed = EncodingFormat(rawValue: name) else {
                throw InputError("\"encoding_format\" must be \"float\" or \"base64\"")
            }
            encodingFormat = parsed
        }
        if let requested = members["dimensions"], requested != .null {
            guard requested.integer == dimensions else {
                throw InputError("\"dimensions\" must be \(dimensions), this model's width (it cannot shorten its vectors)")
            }
        }
        stream = streamed
        normalize = try Self.flag(members, "normalize")
        truncate = try Self.flag(members, "truncate") ?? false
    }

    private static func flag(_ members: [String: JSONValue], _ name: String) throws(InputError) -> Bool? {
        guard let value = members[name], value != .null else { return nil }
        guard let flag = value.bool else { throw InputError("\"\(name)\" must be true or false, not \(value.typeName)") }
        return flag
    }
}
