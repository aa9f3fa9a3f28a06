import FlintModel

/// The prompts a model prepends to a text before tokenizing it (sentence-transformers' `prompts`), found by the
/// names requests use: the model's own names, Cohere's `search_query` / `search_document` for `query` / `document`,
/// and the roles a function embeds for (a search query, a document).
///
/// With no names at all a model takes the common ones (`query`, `document`, `passage`, and Cohere's) as "no
/// prompt", so clients that always send one work with models that need none. It only finds text; tokenizing is
/// the caller's.
public struct Prompts: Sendable, Equatable {
    /// Prompt text by name.
    public let byName: [String: String]
    /// The prompt a request that names none gets (sentence-transformers' `default_prompt_name`).
    public let defaultName: String?

    /// What a name that is not accepted gets: the accepted names, for the message.
    public struct UnknownName: Error, Sendable, Equatable {
        /// The names this model takes.
        public let accepted: [String]
    }

    /// Names taken as "no prompt" by a model that has none.
    static let commonNames = ["query", "document", "passage", "search_query", "search_document"]
    /// Cohere's `input_type` names and the prompt names they stand for.
    static let aliases = ["search_query": ["query"], "search_document": ["document", "passage", "corpus"]]

    /// The model's prompts (`task`), with `overrides` added or replacing them by name; `defaultName` (when given)
    /// replaces the model's default. A default that names no prompt is an error naming it.
    public init(task: ModelTask, overrides: [String: String] = [:], defaultName: String? = nil) throws(UnknownName) {
        var byName = task.prompts
        for (name, text) in overrides { byName[name] = text }
        let chosen = defaultName ?? task.defaultPromptName
        if let chosen, byName[chosen] == nil { throw UnknownName(accepted: byName.keys.sorted()) }
        self.byName = byName
        self.defaultName = chosen
    }

    /// The names a request may use.
    public var accepted: [String] {
        byName.isEmpty
            ? Self.commonNames : Set(byName.keys).union(Self.aliases.keys.filter { resolve($0) != nil }).sorted()
    }

    /// The prompt text for `name` (nil: the default prompt, or none); an unknown name throws the accepted ones.
    public func text(for name: String?) throws(UnknownName) -> String {
        guard let name else { return defaultName.flatMap { byName[$0] } ?? "" }
        if let text = resolve(name) { return text }
        if byName.isEmpty && Self.commonNames.contains(name) { return "" }
        throw UnknownName(accepted: accepted)
    }

    /// The prompt a search query is embedded with: `query`, else the default.
    public var query: String { byName["query"] ?? defaultName.flatMap { byName[$0] } ?? "" }

    /// The prompt a document is embedded with: `document`, `passage` or `corpus`, else the default.
    public var document: String {
        ["document", "passage", "corpus"].lazy.compactMap { byName[$0] }.first ?? defaultName.flatMap { byName[$0] }
            ?? ""
    }

    private func resolve(_ name: String) -> String? {
        byName[name] ?? Self.aliases[name]?.lazy.compactMap { byName[$0] }.first
    }
}
