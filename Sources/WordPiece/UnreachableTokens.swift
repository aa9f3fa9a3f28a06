extension WordPieceTokenizer {
    /// Ids of vocabulary entries this tokenizer can never produce, whatever the text: pieces that hold a
    /// punctuation or CJK scalar next to anything else (pre-tokenization makes each such scalar a word of its
    /// own, like BERT's `[unused0]` … `[unused993]` or `...`), continuation pieces (`##`) of a single such scalar,
    /// and, with `cleanText`, pieces holding whitespace or control characters. Special tokens always count as
    /// reachable. Conservative: an entry it cannot judge (invalid UTF-8, empty) counts as reachable.
    ///
    /// The quantizer leaves these rows out of the word-embedding table (about 1,300 of MiniLM's 30,522).
    public var unreachableIDs: [Int32] {
        let specialIDs = Set(specials.map(\.id))
        let prefix = Array(configuration.continuationPrefix.utf8)
        var unreachable: [Int32] = []
        for id in 0..<Int32(vocabulary.count) where !specialIDs.contains(id) {
            var bytes = vocabulary.token(id)
            let continuation = bytes.count > prefix.count && bytes.starts(with: prefix)
            if continuation { bytes.removeFirst(prefix.count) }
            guard let piece = String(validating: bytes, as: UTF8.self), !piece.isEmpty else { continue }
            let flags = piece.unicodeScalars.map { tables.flags($0.value) }
            func isolated(_ flag: UnicodeTables.Flags) -> Bool {
                flag.contains(.punctuation) || (configuration.handleChineseCharacters && flag.contains(.chinese))
            }
            let dirty = configuration.cleanText && flags.contains { $0.contains(.whitespace) || $0.contains(.control) }
            let split = flags.count > 1 && flags.contains(where: isolated)
            let continuedSingle = continuation && flags.count == 1 && isolated(flags[0])
            if dirty || split || continuedSingle { unreachable.append(id) }
        }
        return unreachable
    }
}
