import FlintJSON

/// Accuracy, per-class precision, recall and F1, macro averages and the confusion matrix of predicted against
/// true labels — what `flint eval` prints for a classifier. A class never predicted has precision 0 (and F1 0),
/// as scikit-learn reports it with `zero_division=0`.
struct ClassificationReport {
    struct ClassFigures: Equatable {
        var precision: Double
        var recall: Double
        var f1: Double
        var support: Int
    }

    /// Every label seen, true or predicted, sorted.
    let labels: [String]
    /// matrix[true][predicted] counts, in `labels` order.
    let confusion: [[Int]]
    let accuracy: Double
    let correct: Int
    let total: Int
    let perClass: [String: ClassFigures]
    let macroPrecision: Double
    let macroRecall: Double
    let macroF1: Double

    init(truth: [String], predicted: [String]) {
        precondition(truth.count == predicted.count)
        labels = Array(Set(truth + predicted)).sorted()
        let position = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (actual, guess) in zip(truth, predicted) { matrix[position[actual]!][position[guess]!] += 1 }
        confusion = matrix
        total = truth.count
        correct = zip(truth, predicted).filter { $0 == $1 }.count
        accuracy = total == 0 ? 0 : Double(correct) / Double(total)
        var figures: [String: ClassFigures] = [:]
        for (index, label) in labels.enumerated() {
            let truePositives = matrix[index][index]
            let predictedCount = matrix.reduce(0) { $0 + $1[index] }
            let support = matrix[index].reduce(0, +)
            let precision = predictedCount == 0 ? 0 : Double(truePositives) / Double(predictedCount)
            let recall = support == 0 ? 0 : Double(truePositives) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            figures[label] = ClassFigures(precision: precision, recall: recall, f1: f1, support: support)
        }
        perClass = figures
        // Macro averages over the classes that occur in the truth (a label only ever predicted has no support).
        let supported = labels.filter { figures[$0]!.support > 0 }
        let count = Double(max(1, supported.count))
        macroPrecision = supported.reduce(0) { $0 + figures[$1]!.precision } / count
        macroRecall = supported.reduce(0) { $0 + figures[$1]!.recall } / count
        macroF1 = supported.reduce(0) { $0 + figures[$1]!.f1 } / count
    }

    /// The report as JSON, for scripts and tests.
    var json: JSONValue {
        .object([
            "accuracy": .number(accuracy), "correct": .number(Double(correct)), "total": .number(Double(total)),
            "macro": .object([
                "precision": .number(macroPrecision), "recall": .number(macroRecall), "f1": .number(macroF1),
            ]),
            "classes": .object(
                perClass.mapValues { figures in
                    .object([
                        "precision": .number(figures.precision), "recall": .number(figures.recall),
                        "f1": .number(figures.f1), "support": .number(Double(figures.support)),
                    ])
                }),
            "confusion": .object([
                "labels": .array(labels.map { .string($0) }),
                "matrix": .array(confusion.map { .array($0.map { .number(Double($0)) }) }),
            ]),
        ])
    }

    /// The report as a table.
    var text: String {
        func number(_ value: Double) -> String { pad(String(format3(value)), 9) }
        let width = max(12, (labels.map(\.count).max() ?? 0) + 2)
        var lines = ["accuracy \(format3(accuracy)) (\(correct) of \(total))", ""]
        lines.append(pad("label", width) + pad("precision", 11) + pad("recall", 9) + pad("f1", 9) + "support")
        for label in labels {
            let figures = perClass[label]!
            lines.append(
                pad(label, width) + pad(format3(figures.precision), 11) + number(figures.recall) + number(figures.f1)
                    + String(figures.support))
        }
        lines.append(
            pad("macro avg", width) + pad(format3(macroPrecision), 11) + number(macroRecall) + number(macroF1)
                + String(total))
        lines.append("")
        lines.append("confusion matrix (rows: true label, columns: predicted)")
        let cell = max(6, (labels.map(\.count).max() ?? 0) + 1)
        lines.append(pad("", width) + labels.map { pad($0, cell) }.joined())
        for (index, label) in labels.enumerated() {
            lines.append(pad(label, width) + confusion[index].map { pad(String($0), cell) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

/// Three decimals without Foundation's formatter.
func format3(_ value: Double) -> String {
    let scaled = Int((value * 1000).rounded())
    let whole = scaled / 1000, fraction = abs(scaled % 1000)
    return
        "\(scaled < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)"
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
