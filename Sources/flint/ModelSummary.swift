import FlintJSON
import FlintModel

/// A model file described in a few readable lines: what it is, its task (pooling and prompts, or labels and score
/// functions), its tokens and its weights. What `flint inspect` prints (the full metadata is `--json`).
enum ModelSummary {
    /// The lines, without indentation.
    static func lines(_ model: ModelFile) -> [String] {
        let metadata = model.metadata
        func number(_ key: String) -> String { metadata[key]?.integer.map(String.init) ?? "?" }
        let name = metadata["modelName"]?.string ?? "model"
        let modelClass = metadata["modelClass"]?.string ?? "BertModel"
        var lines = [
            "model: \(name) (\(modelClass)): \(number("layers")) layers, hidden \(number("hiddenSize")), \(number("heads")) heads, feed-forward \(number("intermediateSize"))"
        ]
        guard let task = try? ModelTask(metadata: metadata) else {
            return lines + ["task: unreadable (\(metadata["pooling"]?.string ?? "?") pooling)"]
        }
        if let head = task.classifier {
            let labels = head.labels.count <= 12 ? head.labels.joined(separator: ", ") : "\(head.labels.count) labels"
            let problem = head.problemType?.rawValue ?? "problem type inferred"
            lines.append(
                "task: sequence classification, \(head.labels.count) label\(head.labels.count == 1 ? "" : "s") (\(labels)); \(problem): pipeline scores by \(head.pipelineFunction.rawValue), CrossEncoder by \(head.crossEncoderActivation.rawValue); head \(head.head.rawValue)"
            )
        } else {
            lines.append(
                "task: sentence embedding, \(task.pooling.rawValue) pooling, \(task.normalize ? "normalized" : "not normalized")"
            )
        }
        if !task.prompts.isEmpty {
            let prompts = task.prompts.keys.sorted().map { key in
                var text: [UInt8] = []
                JSONText.appendString(task.prompts[key]!, to: &text)
                return
                    "\(key) \(String(decoding: text, as: UTF8.self))\(key == task.defaultPromptName ? " (default)" : "")"
            }
            lines.append("prompts: " + prompts.joined(separator: ", "))
        }
        let pruned = metadata["prunedTokenIds"]?.array?.count ?? 0
        lines.append(
            "tokens: at most \(number("maxSequenceLength")) of \(number("maxPositions")) positions; vocabulary \(number("vocabSize")), \(pruned) unreachable ids pruned"
        )
        let group =
            (metadata["embeddingGroup"]?.integer.map { ", embedding scales per \($0) columns" } ?? "")
            + (metadata["inputSmoothing"]?.number.map { ", inputs smoothed (α \($0))" } ?? "")
            + (metadata["linearRounding"]?.string.map { ", \($0) rounding" } ?? "")
        lines.append(
            "weights: \(metadata["quantization"]?.string ?? "?")\(group), \(model.tensorNames.count) tensors; source SHA-256 \(metadata["sourceSHA256"]?.string?.prefix(12) ?? "?")…, \(metadata["producer"]?.string ?? "?")"
        )
        return lines
    }
}
