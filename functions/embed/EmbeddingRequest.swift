import FlintJSON

/// An embeddings request in OpenAI's shape plus Flint's options, validated.
///
/// Fields: `input` (a string or an array of strings; token arrays are refused), `model` (optional; must name the
/// served model), `encoding_format` (`float` or `base64`), `dimensions` (optional; must equal the model's width),
/// `user` (ignored), `input_type` (a prompt name of the model, or Cohere's `search_query` / `search_document`;
/// default: the model's default prompt, if any), and Flint's `normalize` (default: the model's own setting) and
/// `truncate` (default false).
/// Any other field is refused by name, so a typo is not silently ignored.
public struct EmbeddingRequest: Equatable {
    /// How vectors are written.
    public enum EncodingFormat: String, Sendable { case float, base64 }

    /// The texts of `input`, in order.
    public var inputs: [String] { texts.texts }
    /// The texts with the field they came from, for messages.
    let texts: InputTexts
    /// `float` (JSON numbers) or `base64` (little-endian float32).
    public var encodingFormat = EncodingFormat.float
    /// L2-normalise the vectors; nil leaves it to the model.
    public var normalize: Bool?
    /// Cut texts over the model's token limit instead of refusing them.
    public var truncate = false
    /// The prompt name the texts are embedded with; nil: the model's default.
    public var inputType: String?
    /// Answer as JSON lines, streamed batch by batch (Flint's option). Only where the answer can stream: then the
    /// limits `maxStreamedInputs` and `maxStreamedTotalTokens` apply instead of `maxInputs` and `maxTotalTokens`.
    public var stream = false

    static let fields: Set<String> = [
        "input", "model", "encoding_format", "dimensions", "user", "normalize", "truncate", "stream", "input_type",
    ]

    /// Validates `document` against the limits and the served model. `streamable` says whether this answer can
    /// stream at all (an SQS record's cannot): where it cannot, `"stream": true` changes nothing, the buffered
    /// limits apply, and ``stream`` is false.
    public init(
        _ document: JSONValue, limits: InputLimits, modelName: String, dimensions: Int, streamable: Bool = true
    ) throws(InputError) {
        let members = try RequestMembers.of(document, accepted: Self.fields, mainField: "input")
        let asked = try InputTexts.flag(members, "stream") ?? false
        stream = streamable && asked
        texts = try InputTexts(
            members["input"], field: "input", limits: limits,
            maxInputs: stream ? limits.maxStreamedInputs : limits.maxInputs)
        if let model = members["model"], model != .null {
            guard model.string == modelName else {
                throw InputError(
                    "\"model\" is \(model.string.map { "'\($0)'" } ?? model.typeName); this function serves '\(modelName)'"
                )
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
                throw InputError(
                    "\"dimensions\" must be \(dimensions), this model's width (it cannot shorten its vectors)")
            }
        }
        if let type = members["input_type"], type != .null {
            guard let name = type.string else {
                throw InputError("\"input_type\" must be a string, not \(type.typeName)")
            }
            inputType = name
        }
        normalize = try InputTexts.flag(members, "normalize")
        truncate = try InputTexts.flag(members, "truncate") ?? false
    }

    /// The most tokens this request's texts may have together.
    func maxTotalTokens(_ limits: InputLimits) -> Int { stream ? limits.maxStreamedTotalTokens : limits.maxTotalTokens }
}
