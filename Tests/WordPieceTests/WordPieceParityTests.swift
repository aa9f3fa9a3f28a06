import FlintJSON
import Foundation
import TestSupport
import Testing
import WordPiece

/// Token-for-token parity with HF `tokenizers` (fixtures made by Fixtures/generate_fixtures.py).
@Suite struct WordPieceParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let tokenizer: WordPieceTokenizer = {
        let vocabulary = Vocabulary(
            vocabularyText: Array(try! Data(contentsOf: fixtures.appendingPathComponent("vocab.txt"))))
        return try! WordPieceTokenizer(vocabulary: vocabulary)
    }()

    static func rows(_ name: String) throws -> [JSONValue] {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
    }

    static func ids(_ value: JSONValue?) -> [Int32] {
        (value?.array ?? []).compactMap { $0.integer.map(Int32.init) }
    }

    @Test func everyCorpusTextMatchesHF() throws {
        let rows = try Self.rows("corpus.jsonl")
        #expect(rows.count >= 2000)
        var mismatches: [String] = []
        for row in rows {
            let text = try #require(row["text"]?.string)
            let got = Self.tokenizer.encode(text).ids
            let want = Self.ids(row["ids"])
            if got != want {
                let first =
                    zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(got.count, want.count)
                mismatches.append(
                    "\(text.debugDescription.prefix(200)): at \(first) got \(got[max(0, first - 3)...].prefix(12)), want \(want[max(0, first - 3)...].prefix(12))"
                )
            }
        }
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) of \(rows.count) differ; first: \(mismatches.prefix(5).joined(separator: "\n"))")
    }

    /// The ids the quantizer prunes from the word-embedding table must never come out of the tokenizer: HF's own
    /// ids for the whole corpus (2,400 texts: odd Unicode, CJK, punctuation runs, code) never hit one, nor do texts
    /// built from every pruned piece itself.
    @Test func unreachableIDsAreNeverProduced() throws {
        let unreachable = Set(Self.tokenizer.unreachableIDs)
        #expect(
            unreachable.count > 1000 && unreachable.count < 1500,
            "MiniLM's vocabulary: \(unreachable.count) unreachable pieces")
        for name in ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "the", "##s", "!", "."] {
            #expect(
                !unreachable.contains(Self.tokenizer.vocabulary.id(of: Array(name.utf8))!),
                "\(name) must stay reachable")
        }
        #expect(unreachable.contains(Self.tokenizer.vocabulary.id(of: Array("[unused0]".utf8))!))
        var hits: [String] = []
        for row in try Self.rows("corpus.jsonl") {
            let produced = Self.ids(row["ids"]).filter(unreachable.contains)
            if !produced.isEmpty { hits.append("\(row["text"]?.string?.prefix(80) ?? ""): \(produced)") }
        }
        // Every pruned piece written out as text, with and without spaces around it.
        let pieces = unreachable.sorted().map { String(decoding: Self.tokenizer.vocabulary.token($0), as: UTF8.self) }
        for text in [
            pieces.joined(separator: " "), pieces.joined(),
            pieces.map { $0.replacingOccurrences(of: "##", with: "") }.joined(),
        ] {
            let produced = Self.tokenizer.encode(text, maxLength: 100_000).ids.filter(unreachable.contains)
            if !produced.isEmpty { hits.append("pruned pieces as text: \(produced.prefix(10))") }
        }
        #expect(hits.isEmpty, "\(hits.prefix(5).joined(separator: "\n"))")
    }

    @Test func everyPairMatchesHFIncludingTruncation() throws {
        let rows = try Self.rows("pairs.jsonl")
        var mismatches: [String] = []
        for row in rows {
            let a = try #require(row["a"]?.string), b = try #require(row["b"]?.string)
            let got = Self.tokenizer.encode(a, b)
            if got.ids != Self.ids(row["ids"]) || got.typeIDs != Self.ids(row["type_ids"]) {
                mismatches.append(
                    "\(a.prefix(40).debugDescription) / \(b.prefix(40).debugDescription): \(got.ids.count) vs \(Self.ids(row["ids"]).count)"
                )
            }
        }
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) of \(rows.count) pairs differ; first: \(mismatches.prefix(5).joined(separator: "\n"))")
    }

    @Test func knownExamples() {
        #expect(Self.tokenizer.encode("Hello, world!").ids == [101, 7592, 1010, 2088, 999, 102])
        #expect(Self.tokenizer.encode("").ids == [101, 102])
        #expect(Self.tokenizer.encode(String(repeating: "x", count: 101)).ids == [101, 100, 102])
        #expect(Self.tokenizer.encode(String(repeating: "word ", count: 1000)).ids.count == 256)
    }

    @Test func vocabularyWithoutUnknownIsRefused() {
        #expect(throws: TokenizerError(message: "the vocabulary has no unknown token '[UNK]'")) {
            try WordPieceTokenizer(vocabulary: Vocabulary(tokens: [Array("[CLS]".utf8), Array("[SEP]".utf8)]))
        }
    }
}

/// The serialized assets a model file carries give the same tokenizer, and corrupt ones are refused.
@Suite struct TokenizerAssetsTests {
    @Test func roundTripGivesIdenticalTokens() throws {
        let assets = TokenizerAssets.serialize(vocabulary: WordPieceParityTests.tokenizer.vocabulary, tables: .shared)
        let rows = try WordPieceParityTests.rows("corpus.jsonl")
        try assets.withUnsafeBytes { bytes in
            let (vocabulary, tables) = try TokenizerAssets.load(bytes, owner: nil)
            let loaded = try WordPieceTokenizer(vocabulary: vocabulary, tables: tables)
            for row in rows.prefix(600) {
                let text = try #require(row["text"]?.string)
                #expect(loaded.encode(text).ids == WordPieceParityTests.ids(row["ids"]))
            }
        }
    }

    @Test func truncatedOrCorruptAssetsAreErrorsNotCrashes() throws {
        let assets = TokenizerAssets.serialize(vocabulary: WordPieceParityTests.tokenizer.vocabulary, tables: .shared)
        var generator = SeededGenerator(test: "truncatedOrCorruptAssetsAreErrorsNotCrashes")
        for length in [0, 3, 39, 40, 41, 1000, assets.count / 2, assets.count - 4, assets.count - 1] {
            let cut = Array(assets.prefix(length)) + [UInt8](repeating: 0, count: (4 - length % 4) % 4)
            cut.withUnsafeBytes { bytes in
                #expect(throws: TokenizerError.self) {
                    try TokenizerAssets.load(UnsafeRawBufferPointer(rebasing: bytes[..<length]), owner: nil)
                }
            }
        }
        // Flipped bytes in the header and index arrays must be caught or harmless; they must never crash.
        for _ in 0..<300 {
            var copy = assets
            let position = Int.random(in: 4..<min(copy.count, 200_000), using: &generator)
            copy[position] ^= UInt8.random(in: 1...255, using: &generator)
            copy.withUnsafeBytes { bytes in
                if let (vocabulary, tables) = try? TokenizerAssets.load(bytes, owner: nil),
                    let tokenizer = try? WordPieceTokenizer(vocabulary: vocabulary, tables: tables)
                {
                    _ = tokenizer.encode("Hello wörld, 日本語 한국어 ﬁ İ!")
                }
            }
        }
    }
}
