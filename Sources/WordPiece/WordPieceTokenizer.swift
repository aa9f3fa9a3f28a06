/// BERT WordPiece tokenization identical, token for token, to HF `tokenizers` with a BertNormalizer,
/// BertPreTokenizer, WordPiece model and BERT template post-processor.
///
/// Steps, in HF's order, fused into one pass over the text's Unicode scalars (never `Character`s):
/// clean (drop NUL, U+FFFD and Cc/Cf/Co other than tab, newline and return; whitespace becomes a space), pad CJK
/// ideographs with spaces, NFD and drop Mn when stripping accents, lower-case; then split on whitespace and
/// isolate each punctuation scalar; then greedy longest-match WordPiece per word (`##` continuations; a word with
/// no full match, or over 100 scalars, is one `[UNK]`); then `[CLS] … [SEP]` (`[CLS] a [SEP] b [SEP]` for pairs)
/// truncated to `maxLength` as HF's longest-first strategy does. It does not pad.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabulary: Vocabulary(vocabularyText: bytes), configuration: .init())
/// let ids = tokenizer.encode("Hello, world!").ids   // [101, 7592, 1010, 2088, 999, 102]
/// ```
public struct WordPieceTokenizer: Sendable {
    /// The vocabulary, id order.
    public let vocabulary: Vocabulary
    /// The normalisation and framing settings.
    public let configuration: TokenizerConfiguration
    let tables: UnicodeTables
    let unknownID: Int32
    let classID: Int32
    let separatorID: Int32
    private let stripsAccents: Bool
    /// The special tokens found in the vocabulary, as bytes with their ids, longest first.
    let specials: [(bytes: [UInt8], id: Int32)]

    /// Checks that the special tokens exist in the vocabulary.
    public init(
        vocabulary: Vocabulary, configuration: TokenizerConfiguration = TokenizerConfiguration(),
        tables: UnicodeTables = .shared
    ) throws(TokenizerError) {
        func id(_ token: String, _ role: String) throws(TokenizerError) -> Int32 {
            guard let id = vocabulary.id(of: Array(token.utf8)) else {
                throw TokenizerError(message: "the vocabulary has no \(role) token '\(token)'")
            }
            return id
        }
        guard configuration.maxLength >= 3 else {
            throw TokenizerError(message: "maxLength \(configuration.maxLength) is below 3")
        }
        guard configuration.maxInputCharsPerWord >= 1 else {
            throw TokenizerError(message: "maxInputCharsPerWord must be positive")
        }
        self.unknownID = try id(configuration.unknownToken, "unknown")
        self.classID = try id(configuration.classToken, "class")
        self.separatorID = try id(configuration.separatorToken, "separator")
        self.vocabulary = vocabulary
        self.configuration = configuration
        self.tables = tables
        self.stripsAccents = configuration.stripAccents ?? configuration.lowercase
        self.specials = configuration.specialTokens.compactMap { token in
            vocabulary.id(of: Array(token.utf8)).map { (Array(token.utf8), $0) }
        }.sorted { $0.bytes.count > $1.bytes.count }
    }

    /// Encodes one text: `[CLS] tokens [SEP]`, at most `maxLength` ids.
    public func encode(_ text: String) -> Encoding {
        encode(text, maxLength: configuration.maxLength)
    }

    /// Encodes one text keeping at most `maxLength` ids (at least 3), which may exceed the configuration's: asking
    /// for one more than the model takes tells whether a text would be cut, without tokenizing all of a long one.
    public func encode(_ text: String, maxLength: Int) -> Encoding {
        var ids: [Int32] = [classID]
        ids.reserveCapacity(min(max(maxLength, 3), text.utf8.count / 3 + 8))
        var scratch = Scratch()
        tokenize(text, limit: max(maxLength, 3) - 2, into: &ids, scratch: &scratch)
        ids.append(separatorID)
        return Encoding(ids: ids, typeIDs: [Int32](repeating: 0, count: ids.count))
    }

    /// Encodes a pair (for cross-encoders): `[CLS] a [SEP] b [SEP]`, type ids 0 then 1, truncated longest-first to
    /// `maxLength` ids (the configuration's when nil; at least 3).
    public func encode(_ first: String, _ second: String, maxLength: Int? = nil) -> Encoding {
        var scratch = Scratch()
        var a: [Int32] = [], b: [Int32] = []
        let budget = max(maxLength ?? configuration.maxLength, 3) - 3
        // Neither side can keep more than the whole budget, so tokenizing further would be wasted.
        tokenize(first, limit: budget + 1, into: &a, scratch: &scratch)
        tokenize(second, limit: budget + 1, into: &b, scratch: &scratch)
        if a.count + b.count > budget {
            var (short, long) = a.count <= b.count ? (a.count, b.count) : (b.count, a.count)
            long = short > budget ? short : max(short, budget - short)
            if short + long > budget {
                short = budget / 2
                long = short + budget % 2
            }
            let (keepA, keepB) = a.count <= b.count ? (short, long) : (long, short)
            a.removeLast(max(0, a.count - keepA))
            b.removeLast(max(0, b.count - keepB))
        }
        let ids = [classID] + a + [separatorID] + b + [separatorID]
        let types = [Int32](repeating: 0, count: a.count + 2) + [Int32](repeating: 1, count: b.count + 1)
        return Encoding(ids: ids, typeIDs: types)
    }

    /// Buffers reused across the words of one call.
    struct Scratch {
        var word: [UInt8] = []
        /// Byte offset where each scalar of `word` starts, then the end.
        var bounds: [Int] = [0]
        var hashes: [UInt64] = []
        /// Scalars with a non-zero combining class awaiting canonical ordering.
        var pendingMarks: [(scalar: UInt32, combiningClass: UInt8)] = []
    }

    /// Appends the word-piece ids of `text` (no framing tokens), stopping once `limit` ids were appended.
    /// Special tokens written in the text are matched first, on the raw text, and become their own ids.
    func tokenize(_ text: String, limit: Int, into ids: inout [Int32], scratch: inout Scratch) {
        let end = ids.count + limit
        guard !specials.isEmpty, text.utf8.contains(UInt8(ascii: "[")) else {
            return tokenize(segment: Substring(text), end: end, into: &ids, scratch: &scratch)
        }
        let utf8 = text.utf8
        var segmentStart = utf8.startIndex
        var index = segmentStart
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "["),
                let special = specials.first(where: { utf8[index...].starts(with: $0.bytes) })
            {
                tokenize(segment: text[segmentStart..<index], end: end, into: &ids, scratch: &scratch)
                if ids.count < end { ids.append(special.id) }
                index = utf8.index(index, offsetBy: special.bytes.count)
                segmentStart = index
            } else {
                index = utf8.index(after: index)
            }
        }
        tokenize(segment: text[segmentStart...], end: end, into: &ids, scratch: &scratch)
    }

    private func tokenize(segment: Substring, end: Int, into ids: inout [Int32], scratch: inout Scratch) {
        for scalar in segment.unicodeScalars {
            if ids.count >= end { break }
            let value = scalar.value
            let flags = tables.flags(value)
            if configuration.cleanText {
                if value == 0 || value == 0xFFFD { continue }
                if flags.contains(.control) && value != 0x09 && value != 0x0A && value != 0x0D { continue }
                if flags.contains(.whitespace) {
                    finishWord(into: &ids, limit: end, scratch: &scratch)
                    continue
                }
            }
            if configuration.handleChineseCharacters && flags.contains(.chinese) {
                finishWord(into: &ids, limit: end, scratch: &scratch)
                normalize(value, into: &ids, limit: end, scratch: &scratch)
                finishWord(into: &ids, limit: end, scratch: &scratch)
                continue
            }
            normalize(value, into: &ids, limit: end, scratch: &scratch)
        }
        finishWord(into: &ids, limit: end, scratch: &scratch)
        if ids.count > end { ids.removeLast(ids.count - end) }
    }

    /// Decomposes, strips marks, orders what combining marks survive, lower-cases, then splits.
    @inline(__always)
    private func normalize(_ value: UInt32, into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        guard stripsAccents else { return lowercase(value, into: &ids, limit: limit, scratch: &scratch) }
        if value < 0x80 { return emitOrdered(value, into: &ids, limit: limit, scratch: &scratch) }
        let decomposes = tables.flags(value).contains(.decomposes) || (value >= 0xAC00 && value <= 0xD7A3)
        if !decomposes
            || !tables.forEachDecomposed(value, { emitOrdered($0, into: &ids, limit: limit, scratch: &scratch) })
        {
            emitOrdered(value, into: &ids, limit: limit, scratch: &scratch)
        }
    }

    /// NFD's canonical ordering, after dropping Mn: runs of non-zero combining classes leave sorted by class.
    @inline(__always)
    private func emitOrdered(_ value: UInt32, into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        let flags = value < 0x80 ? [] : tables.flags(value)
        if flags.contains(.mark) { return }
        if flags.contains(.combines) {
            scratch.pendingMarks.append((value, tables.combiningClass(value)))
            return
        }
        flushMarks(into: &ids, limit: limit, scratch: &scratch)
        lowercase(value, into: &ids, limit: limit, scratch: &scratch)
    }

    private func flushMarks(into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        guard !scratch.pendingMarks.isEmpty else { return }
        let marks = scratch.pendingMarks.enumerated().sorted {
            ($0.element.combiningClass, $0.offset) < ($1.element.combiningClass, $1.offset)
        }
        scratch.pendingMarks.removeAll(keepingCapacity: true)
        for mark in marks { lowercase(mark.element.scalar, into: &ids, limit: limit, scratch: &scratch) }
    }

    @inline(__always)
    private func lowercase(_ value: UInt32, into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        guard configuration.lowercase else { return split(value, into: &ids, limit: limit, scratch: &scratch) }
        if value < 0x80 {
            let lowered = value >= 0x41 && value <= 0x5A ? value + 0x20 : value
            return split(lowered, into: &ids, limit: limit, scratch: &scratch)
        }
        if !tables.flags(value).contains(.lowercases)
            || !tables.forEachLowercase(value, { split($0, into: &ids, limit: limit, scratch: &scratch) })
        {
            split(value, into: &ids, limit: limit, scratch: &scratch)
        }
    }

    /// The pre-tokenizer: whitespace ends a word, punctuation is a word of its own, the rest accumulates.
    @inline(__always)
    private func split(_ value: UInt32, into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        let flags = tables.flags(value)
        if flags.contains(.whitespace) {
            finishWord(into: &ids, limit: limit, scratch: &scratch)
        } else if flags.contains(.punctuation) {
            finishWord(into: &ids, limit: limit, scratch: &scratch)
            append(value, to: &scratch)
            finishWord(into: &ids, limit: limit, scratch: &scratch)
        } else {
            append(value, to: &scratch)
        }
    }

    @inline(__always)
    private func append(_ value: UInt32, to scratch: inout Scratch) {
        if value < 0x80 {
            scratch.word.append(UInt8(value))
        } else {
            for byte in UTF8.encode(Unicode.Scalar(value)!)! { scratch.word.append(byte) }
        }
        scratch.bounds.append(scratch.word.count)
    }

    /// Runs WordPiece over the accumulated word and clears it.
    private func finishWord(into ids: inout [Int32], limit: Int, scratch: inout Scratch) {
        flushMarks(into: &ids, limit: limit, scratch: &scratch)
        let scalars = scratch.bounds.count - 1
        guard scalars > 0 else { return }
        defer {
            scratch.word.removeAll(keepingCapacity: true)
            scratch.bounds.removeAll(keepingCapacity: true)
            scratch.bounds.append(0)
        }
        guard ids.count < limit else { return }
        guard scalars <= configuration.maxInputCharsPerWord else { return ids.append(unknownID) }
        let produced = ids.count
        scratch.word.withUnsafeBufferPointer { word in
            var start = 0
            while start < scalars {
                // Hashes of every candidate piece from `start`, so each shorter try costs one probe.
                scratch.hashes.removeAll(keepingCapacity: true)
                var state = start > 0 ? vocabulary.continuationHashState : Vocabulary.fnvOffset
                for index in (start + 1)...scalars {
                    for offset in scratch.bounds[index - 1]..<scratch.bounds[index] {
                        state = (state ^ UInt64(word[offset])) &* Vocabulary.fnvPrime
                    }
                    scratch.hashes.append(state)
                }
                var end = scalars
                var found: Int32? = nil
                while end > start {
                    let piece = UnsafeBufferPointer(rebasing: word[scratch.bounds[start]..<scratch.bounds[end]])
                    if let id = vocabulary.id(of: piece, continuation: start > 0, hash: scratch.hashes[end - start - 1])
                    {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else {
                    ids.removeLast(ids.count - produced)
                    ids.append(unknownID)
                    return
                }
                ids.append(id)
                start = end
            }
        }
    }
}
