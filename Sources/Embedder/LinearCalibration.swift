import FlintModel
import WordPiece

/// What calibration texts show of a model's linear layers: each layer's ``InputStatistics`` (the inputs' second
/// moment), gathered by running the texts through the model's f32 reference path, as ``GPTQRounding`` needs them.
/// Classifier models see the texts one at a time, as single-text inputs. It does not quantize anything itself.
public enum LinearCalibration {
    /// The statistics of every linear layer of `model` (an f32 file, `flint quantize --float32`'s bytes) over
    /// `texts`, by weight name.
    public static func statistics(texts: [String], model: ModelFile) throws(ModelFileError) -> [String: InputStatistics]
    {
        let tokenizer = try model.tokenizer()
        let encoder = try Encoder(model: model, precision: .float32)
        var statistics: [String: InputStatistics] = [:]
        encoder.linearInputObserver = { name, inputs, rows in
            statistics[name, default: InputStatistics(columns: inputs.count / rows)].add(inputs, rows: rows)
        }
        let sequences = texts.map { tokenizer.encode($0).ids }
        for start in stride(from: 0, to: sequences.count, by: 64) {
            let batch = Array(sequences[start..<min(start + 64, sequences.count)])
            if encoder.configuration.task.classifier != nil {
                _ = encoder.classify(batch: batch)
            } else {
                _ = encoder.embed(batch: batch)
            }
        }
        return statistics
    }
}
