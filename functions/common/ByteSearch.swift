/// Substring search and replacement on UTF-8 bytes. The standard library's `firstRange(of:)`, `contains(_:)` on
/// strings and `replacing(_:with:)` come from `_StringProcessing`, which pulls the regex engine and the Unicode
/// name tables (about 1.6 MB) into the static bootstrap; these few lines do what the functions need.
enum ByteSearch {
    /// Where `needle` first occurs in `haystack`, or nil.
    static func firstIndex<Haystack: RandomAccessCollection<UInt8>>(
        of needle: [UInt8], in haystack: Haystack
    ) -> Haystack.Index? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty ? haystack.startIndex : nil }
        var index = haystack.startIndex
        let last = haystack.index(haystack.endIndex, offsetBy: -needle.count)
        while index <= last {
            if haystack[index] == needle[0], haystack[index...].starts(with: needle) { return index }
            index = haystack.index(after: index)
        }
        return nil
    }

    /// Whether `text` contains `part`.
    static func contains(_ text: String, _ part: String) -> Bool {
        firstIndex(of: Array(part.utf8), in: Array(text.utf8)) != nil
    }

    /// `text` with every occurrence of `target` replaced by `replacement`, scanning left to right.
    static func replacing(_ target: String, with replacement: String, in text: String) -> String {
        let bytes = Array(text.utf8), needle = Array(target.utf8)
        guard !needle.isEmpty else { return text }
        var out: [UInt8] = [], index = 0
        while index < bytes.count {
            if bytes[index] == needle[0], bytes[index...].starts(with: needle) {
                out.append(contentsOf: replacement.utf8)
                index += needle.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
