import FlintJSON

/// The members of a request document: a JSON object whose every field is one the function accepts, so a typo is
/// refused by name rather than ignored.
enum RequestMembers {
    /// `document`'s members; `mainField` names the field the messages point to when it is not an object.
    static func of(
        _ document: JSONValue, accepted: Set<String>, mainField: String
    ) throws(InputError) -> [String: JSONValue] {
        guard let members = document.object else {
            throw InputError(
                "the request must be a JSON object with a \"\(mainField)\" field, not \(document.typeName)")
        }
        if let unknown = members.keys.filter({ !accepted.contains($0) }).sorted().first {
            throw InputError("unknown field \"\(unknown)\" (accepted: \(accepted.sorted().joined(separator: ", ")))")
        }
        return members
    }
}
