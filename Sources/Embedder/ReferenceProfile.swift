import FlintJSON
import FlintModel
import WordPiece

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a model's inputs looked like when it was calibrated: the distribution of token counts, the rate of unknown
/// tokens and the mean embedding, over a calibration set. `flint quantize --calibration` stores it in the model
/// file's metadata (`referenceProfile`); functions compare live inputs with it (``DriftStatistics``).
public struct ReferenceProfile: Sendable, Equatable {
    /// Upper bounds (inclusive) of the token-count bins; a last, open bin holds longer texts.
    public static let tokenBins = [8, 16, 32, 64, 128, 256]

    /// Texts profiled.
    public var texts: Int
    /// Fraction of texts per bin (`tokenBins.count + 1` values summing to 1).
    public var tokenHistogram: [Double]
    /// Unknown tokens per token.
    public var unknownRate: Double
    /// The mean of the texts' (normalised) embeddings.
    public var meanEmbedding: [Float]

    /// The bin a text of `tokens` tokens falls in.
    public static func bin(_ tokens: Int) -> Int { tokenBins.firstIndex { tokens <= $0 } ?? tokenBins.count }

    /// Profiles `texts` with the model's tokenizer and encoder.
    public init(texts: [String], tokenizer: WordPieceTokenizer, encoder: Encoder) {
        var statistics = DriftStatistics(
            dimensions: encoder.configuration.hiddenSize,
            unknownID: tokenizer.vocabulary.id(of: Array(tokenizer.configuration.unknownToken.utf8)) ?? -1)
        let sequences = texts.map { tokenizer.encode($0).ids }
        for start in stride(from: 0, to: sequences.count, by: 128) {
            let batch = Array(sequences[start..<min(start + 128, sequences.count)])
            statistics.observe(batch, vectors: encoder.embed(batch: batch, normalize: true))
        }
        self = statistics.profile
    }

    init(texts: Int, tokenHistogram: [Double], unknownRate: Double, meanEmbedding: [Float]) {
        self.texts = texts
        self.tokenHistogram = tokenHistogram
        self.unknownRate = unknownRate
        self.meanEmbedding = meanEmbedding
    }

    /// The profile a model file carries, or nil when it has none (or a malformed one).
    public init?(metadata: JSONValue) {
        guard let profile = metadata["referenceProfile"], let texts = profile["texts"]?.integer,
            let histogram = profile["tokenHistogram"]?.array?.compactMap(\.number),
            histogram.count == Self.tokenBins.count + 1,
            let unknown = profile["unknownRate"]?.number,
            let mean = profile["meanEmbedding"]?.array?.compactMap(\.number), !mean.isEmpty
        else { return nil }
        self.init(texts: texts, tokenHistogram: histogram, unknownRate: unknown, meanEmbedding: mean.map { Float($0) })
    }

    /// The metadata value.
    public var json: JSONValue {
        .object([
            "texts": .number(Double(texts)),
            "tokenBins": .array(Self.tokenBins.map { .number(Double($0)) }),
            "tokenHistogram": .array(tokenHistogram.map { .number($0) }),
            "unknownRate": .number(unknownRate),
            "meanEmbedding": .array(meanEmbedding.map { .number(Double($0)) }),
        ])
    }
}

/// Running statistics of the inputs a function has seen, the same ones as a ``ReferenceProfile``, and the drift
/// scores against one: the population stability index of the token-count distribution, the change in the
/// unknown-token rate, and the cosine distance between the mean embeddings.
public struct DriftStatistics: Sendable {
    /// Texts observed.
    public private(set) var texts = 0
    private var bins = [Int](repeating: 0, count: ReferenceProfile.tokenBins.count + 1)
    private var tokens = 0
    private var unknown = 0
    private var sum: [Double]
    private let unknownID: Int32

    /// Empty statistics for embeddings of `dimensions`, counting `unknownID` as the unknown token.
    public init(dimensions: Int, unknownID: Int32) {
        sum = [Double](repeating: 0, count: dimensions)
        self.unknownID = unknownID
    }

    /// Adds tokenized texts and their embeddings.
    public mutating func observe(_ sequences: [[Int32]], vectors: [[Float]]) {
        for (ids, vector) in zip(sequences, vectors) {
            texts += 1
            bins[ReferenceProfile.bin(ids.count)] += 1
            tokens += ids.count
            unknown += ids.reduce(0) { $0 + ($1 == unknownID ? 1 : 0) }
            var norm: Float = 0
            for value in vector { norm += value * value }
            let scale = norm > 0 ? 1 / Double(norm.squareRoot()) : 0
            for (index, value) in vector.enumerated() { sum[index] += Double(value) * scale }
        }
    }

    /// These statistics as a profile.
    public var profile: ReferenceProfile {
        ReferenceProfile(
            texts: texts, tokenHistogram: bins.map { Double($0) / Double(max(1, texts)) },
            unknownRate: Double(unknown) / Double(max(1, tokens)),
            meanEmbedding: sum.map { Float($0 / Double(max(1, texts))) })
    }

    /// Population stability index of the token-count bins against `reference` (0 when identical; above 0.2 is
    /// commonly read as a significant shift). Bins count as at least 1% so that the logarithm stays finite and a
    /// window of a few dozen texts does not read an empty bin as a shift.
    public func populationStabilityIndex(against reference: ReferenceProfile) -> Double {
        let live = profile.tokenHistogram
        return zip(live, reference.tokenHistogram).reduce(0) { total, pair in
            let (actual, expected) = (max(pair.0, 0.01), max(pair.1, 0.01))
            return total + (actual - expected) * log(actual / expected)
        }
    }

    /// 1 − cosine similarity between the live and the reference mean embeddings.
    public func meanDistance(from reference: ReferenceProfile) -> Double {
        let live = profile.meanEmbedding
        var dot = 0.0, a = 0.0, b = 0.0
        for (x, y) in zip(live, reference.meanEmbedding) {
            dot += Double(x) * Double(y)
            a += Double(x * x)
            b += Double(y * y)
        }
        return a == 0 || b == 0 ? 1 : 1 - dot / (a * b).squareRoot()
    }
}
