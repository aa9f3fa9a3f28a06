/// The request limits a function enforces, from function.json's `limits` section.
///
/// Over a limit is an ``InputError`` naming the limit, never a silent cut (only `truncate` cuts, and only texts
/// over the model's token limit).
public struct InputLimits: Sendable, Equatable {
    /// Most texts per request (`maxInputs`, default 256).
    public var maxInputs = 256
    /// Most Unicode scalars per text (`maxCharactersPerInput`, default 20,000).
    public var maxCharactersPerInput = 20_000
    /// Most tokens over all texts of a request, after truncation (`maxTotalTokens`, default 65,536).
    public var maxTotalTokens = 65_536
    /// Largest HTTP body accepted (`maxRequestBytes`, default 1 MiB); a larger one is a 413.
    public var maxRequestBytes = 1 << 20
    /// Most texts in a streamed request (`maxStreamedInputs`, default 10,000): its answer leaves batch by batch.
    public var maxStreamedInputs = 10_000
    /// Most tokens over all texts of a streamed request (`maxStreamedTotalTokens`, default 2,560,000).
    public var maxStreamedTotalTokens = 2_560_000

    /// The defaults.
    public init() {}

    /// Reads the `limits` section.
    public init(configuration: FunctionConfiguration) throws {
        maxInputs = try configuration.integer("maxInputs", in: "limits", default: maxInputs, minimum: 1)
        maxCharactersPerInput = try configuration.integer(
            "maxCharactersPerInput", in: "limits", default: maxCharactersPerInput, minimum: 1)
        maxTotalTokens = try configuration.integer("maxTotalTokens", in: "limits", default: maxTotalTokens, minimum: 1)
        maxRequestBytes = try configuration.integer(
            "maxRequestBytes", in: "limits", default: maxRequestBytes, minimum: 1)
        maxStreamedInputs = try configuration.integer(
            "maxStreamedInputs", in: "limits", default: maxStreamedInputs, minimum: 1)
        maxStreamedTotalTokens = try configuration.integer(
            "maxStreamedTotalTokens", in: "limits", default: maxStreamedTotalTokens, minimum: 1)
    }
}
