import FlintJSON
import FlintModel
import LambdaRuntime

/// Classification with the model's own head, as the `transformers` text-classification pipeline computes it: the
/// head's outputs through softmax (single-label), sigmoid (multi-label, or one output) or nothing (regression).
///
/// Request: `{"input": "text" | [...], "top_k": N, "function_to_apply": "softmax" | "sigmoid" | "none",
/// "truncate": true}`; `top_k` (default: every label) keeps the best N scores of each text, `function_to_apply`
/// overrides the pipeline's choice. Texts over the model's token limit are refused unless `truncate`. Answer:
/// `{"results": [{"index", "label", "scores": [{"label", "score"}]}], "model", "usage"}`, scores best first.
/// function.json's `labels`, `template` and `temperature` are the zero-shot classifier's and unused here.
extension ClassifyFunction {
    func answer(
        _ document: JSONValue, head: ModelTask.Classifier, measured: inout InvocationMetrics, into out: inout [UInt8]
    ) throws(InputError) {
        let members = try RequestMembers.of(document, accepted: Self.headFields, mainField: "input")
        let inputs = try InputTexts(members["input"], field: "input", limits: limits, maxInputs: limits.maxInputs)
        let truncate = try InputTexts.flag(members, "truncate") ?? false
        var topK = head.labels.count
        if let value = members["top_k"], value != .null {
            guard let number = value.integer, number >= 1 else {
                throw InputError("\"top_k\" must be a positive integer")
            }
            topK = min(number, head.labels.count)
        }
        var function = head.pipelineFunction
        if let value = members["function_to_apply"], value != .null {
            let names: [String: ModelTask.ScoreFunction] = [
                "softmax": .softmax, "sigmoid": .sigmoid, "none": .identity,
            ]
            guard let name = value.string, let chosen = names[name] else {
                throw InputError("\"function_to_apply\" must be \"softmax\", \"sigmoid\" or \"none\"")
            }
            function = chosen
        }

        var stopwatch = Stopwatch()
        let sequences = try model.tokenize(
            inputs, truncate: truncate, maxTotalTokens: limits.maxTotalTokens, measured: &measured)
        measured.tokenizeMilliseconds = stopwatch.lap()
        let outputs = model.classify(sequences)
        measured.forwardMilliseconds = stopwatch.lap()

        out.append(contentsOf: #"{"results":["#.utf8)
        for (index, values) in outputs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"index":"#.utf8)
            JSONText.appendNumber(Double(index), to: &out)
            out.append(UInt8(ascii: ","))
            ClassifierScores.write(values, function: function, labels: head.labels, top: topK, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        AnswerTail.write(model: model.name, tokens: measured.tokens, into: &out)
    }
}
