import FlintJSON

/// The texts of a request, read from the field that carries them (`input`, `query`, ...): one string or an array of
/// strings, each non-empty and within the limits. Every message names the field as the request spells it
/// (`query`, `query[2]`), here and when the texts are tokenized.
struct InputTexts: Equatable {
    /// The field's name.
    let field: String
    /// The texts, in order.
    let texts: [String]
    /// Whether the field held one string rather than an array.
    let single: Bool

    /// Reads `value`, the field's value (nil when absent); at most `maxInputs` texts.
    init(_ value: JSONValue?, field: String, limits: InputLimits, maxInputs: Int) throws(InputError) {
        self.field = field
        switch value {
        case nil, .null?:
            throw InputError("\"\(field)\" is required: a string or an array of strings")
        case .string(let text)?:
            texts = [text]
            single = true
        case .array(let elements)?:
            guard !elements.isEmpty else { throw InputError("\"\(field)\" is an empty array") }
            guard elements.count <= maxInputs else {
                throw InputError(
                    "\"\(field)\" has \(elements.count) texts; this function takes at most \(maxInputs) per request")
            }
            var texts: [String] = []
            texts.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard let text = element.string else {
                    let what = element.number != nil || element.array != nil ? " (token arrays are not accepted)" : ""
                    throw InputError("\(field)[\(index)] must be a string, not \(element.typeName)\(what)")
                }
                texts.append(text)
            }
            self.texts = texts
            single = false
        case let other?:
            throw InputError("\"\(field)\" must be a string or an array of strings, not \(other.typeName)")
        }
        for (index, text) in texts.enumerated() {
            guard !text.isEmpty else { throw InputError("\(name(index)) is empty") }
            let characters = text.unicodeScalars.count
            guard characters <= limits.maxCharactersPerInput else {
                throw InputError(
                    "\(name(index)) has \(characters) characters; this function takes at most \(limits.maxCharactersPerInput)"
                )
            }
        }
    }

    /// How messages name text `index`: the field itself for a single string, else `field[index]`.
    func name(_ index: Int) -> String { single ? field : "\(field)[\(index)]" }

    /// A request's boolean option `name`: nil when absent or null.
    static func flag(_ members: [String: JSONValue], _ name: String) throws(InputError) -> Bool? {
        guard let value = members[name], value != .null else { return nil }
        guard let flag = value.bool else {
            throw InputError("\"\(name)\" must be true or false, not \(value.typeName)")
        }
        return flag
    }
}
