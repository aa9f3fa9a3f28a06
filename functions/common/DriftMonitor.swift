import Embedder
import FlintJSON
import FlintModel
import LambdaRuntime
import Synchronization
import WordPiece

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Watches an environment's live inputs for drift from the model's calibration profile and reports it as EMF
/// metrics: DriftPSI (population stability index of token counts), DriftMeanDistance (1 − cosine of the mean
/// embeddings), DriftUnknownRate (unknown tokens per token, beside the reference's as a property) and DriftTexts.
///
/// Statistics accumulate over a window; the first invocation after `drift.intervalSeconds` (default 60) with at
/// least `drift.minTexts` (default 20) texts reports and starts a new window. No timer thread, so an idle
/// environment reports nothing. Off when the model file carries no `referenceProfile` (`flint quantize
/// --calibration` adds one) or when `drift.enabled` is false.
public final class DriftMonitor: Sendable {
    private struct Window {
        var statistics: DriftStatistics
        var started: Int64
    }

    private let reference: ReferenceProfile
    private let intervalMilliseconds: Int64
    private let minTexts: Int
    private let metrics: MetricsEmitter
    private let dimensions: Int
    private let unknownID: Int32
    private let window: Mutex<Window>

    /// A monitor, or nil when drift monitoring is off for this model and configuration.
    public init?(model: EmbeddingModel, configuration: FunctionConfiguration, metrics: MetricsEmitter) throws {
        guard try configuration.bool("enabled", in: "drift", default: true),
            let reference = ReferenceProfile(metadata: model.file.metadata)
        else { return nil }
        self.reference = reference
        intervalMilliseconds = Int64(try configuration.number("intervalSeconds", in: "drift", default: 60) * 1000)
        minTexts = try configuration.integer("minTexts", in: "drift", default: 20, minimum: 1)
        self.metrics = metrics
        dimensions = model.dimensions
        unknownID = model.tokenizer.vocabulary.id(of: Array(model.tokenizer.configuration.unknownToken.utf8)) ?? -1
        window = Mutex(
            Window(
                statistics: DriftStatistics(dimensions: model.dimensions, unknownID: unknownID),
                started: LambdaContext.nowMilliseconds()))
    }

    /// Adds one invocation's texts; reports when the window is due.
    public func observe(_ sequences: [[Int32]], vectors: [[Float]]) {
        let now = LambdaContext.nowMilliseconds()
        let due: DriftStatistics? = window.withLock { window in
            window.statistics.observe(sequences, vectors: vectors)
            guard now - window.started >= intervalMilliseconds, window.statistics.texts >= minTexts else { return nil }
            let finished = window.statistics
            window = Window(statistics: DriftStatistics(dimensions: dimensions, unknownID: unknownID), started: now)
            return finished
        }
        guard let due else { return }
        let live = due.profile
        metrics.emit(
            [
                ("DriftPSI", "None", due.populationStabilityIndex(against: reference)),
                ("DriftMeanDistance", "None", due.meanDistance(from: reference)),
                ("DriftUnknownRate", "None", live.unknownRate),
                ("DriftTexts", "Count", Double(due.texts)),
            ],
            properties: [
                "ReferenceUnknownRate": .number(reference.unknownRate),
                "ReferenceTexts": .number(Double(reference.texts)),
            ])
    }
}
