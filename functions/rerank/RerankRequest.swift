import FlintJSON

/// A rerank request in the shape Cohere's and Jina's rerank APIs share (and LangChain / LlamaIndex rerankers send),
/// validated: `{"query": "text", "documents": ["text" | {"text": "..."}, ...], "top_n": 3, "return_documents": false}`.
///
/// Also accepted: `texts` for `documents` and `return_text` for `return_documents` (text-embeddings-inference's
/// names), `raw_scores` (a cross-encoder's outputs before its activation), and `model` (any string: clients must
/// send one; the answer names the model served). Any other field is refused by name.
struct RerankRequest {
    /// The query, checked as a text (non-empty, within the character limit).
    let query: InputTexts
    /// The documents' texts, in request order.
    let documents: InputTexts
    /// How many results to return, best first (all by default).
    let topN: Int
    /// Whether each result carries its document's text.
    let returnDocuments: Bool
    /// Whether a cross-encoder's scores skip its activation.
    let rawScores: Bool

    static let fields: Set<String> = [
        "query", "documents", "texts", "top_n", "return_documents", "return_text", "raw_scores", "model",
    ]

    /// Reads `document` under the function's limits: `maxDocuments` documents, each within the character limit.
    init(_ document: JSONValue, limits: InputLimits, maxDocuments: Int) throws(InputError) {
        let members = try RequestMembers.of(document, accepted: Self.fields, mainField: "query")
        guard let query = members["query"], query != .null else {
            throw InputError("\"query\" is required: the text to rank the documents against")
        }
        guard query.string != nil else { throw InputError("\"query\" must be a string, not \(query.typeName)") }
        self.query = try InputTexts(query, field: "query", limits: limits, maxInputs: 1)
        guard members["documents"] == nil || members["texts"] == nil else {
            throw InputError("send \"documents\" or its alias \"texts\", not both")
        }
        let field = members["texts"] != nil ? "texts" : "documents"
        var value = members[field]
        // Cohere and Jina accept {"text": ...} objects as documents.
        if case .array(let elements)? = value {
            var texts: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                if let members = element.object {
                    guard let text = members["text"]?.string else {
                        throw InputError("\(field)[\(index)] must be a string or an object with a \"text\" string")
                    }
                    texts.append(.string(text))
                } else {
                    texts.append(element)
                }
            }
            value = .array(texts)
        } else if case .string? = value {
            throw InputError("\"\(field)\" must be an array of documents, not one string")
        }
        documents = try InputTexts(value, field: field, limits: limits, maxInputs: maxDocuments)
        var topN = documents.texts.count
        if let value = members["top_n"], value != .null {
            guard let number = value.integer, number >= 1 else {
                throw InputError("\"top_n\" must be a positive integer")
            }
            topN = min(number, documents.texts.count)
        }
        self.topN = topN
        guard members["return_documents"] == nil || members["return_text"] == nil else {
            throw InputError("send \"return_documents\" or its alias \"return_text\", not both")
        }
        let returnDocuments = try InputTexts.flag(members, "return_documents")
        let returnText = try InputTexts.flag(members, "return_text")
        self.returnDocuments = returnDocuments ?? returnText ?? false
        rawScores = try InputTexts.flag(members, "raw_scores") ?? false
        if let model = members["model"], model != .null, model.string == nil {
            throw InputError("\"model\" must be a string, not \(model.typeName)")
        }
    }
}
