import ArgumentParser
import FlintJSON
import Foundation
import Functions
import LambdaRuntime

/// `flint eval`: a labeled set through a function, in-process, and the figures that tell whether it is good.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run a labeled JSONL set through a function and print its quality and latency figures.",
        discussion: """
            classify: lines {"text": ..., "label": ...}; prints accuracy, per-class precision / recall / F1, the \
            confusion matrix and latency percentiles. embed: lines {"text": ..., "embedding": [...]} (reference \
            vectors, e.g. from sentence-transformers); prints cosine fidelity (mean, minimum, 5th percentile) and \
            latency. search: lines {"query": ..., "id": expected document id}; prints hit rate at 1 and at k and \
            the mean reciprocal rank. rerank: lines {"query": ..., "documents": [...], "relevant": [indices]}; \
            prints NDCG@10, MRR@10 and recall at 1, 5 and 10. The function runs in this process, built from functions/<name>/function.json \
            as the bootstrap builds it; latency is the handler's, without the Runtime API round trip. \
            --predictions scores a file of {"label", "predicted"} lines without running anything.
            """
    )

    @Argument(help: "The function (a folder under --functions-dir).")
    var function: String?
    @Argument(help: "The labeled JSONL set.")
    var labeled: String?
    @Option(help: "The model file (default: FLINT_MODEL, else function.json's model under the function's folder).")
    var model: String?
    @Option(help: "The search index (default: FLINT_INDEX, else function.json's index).")
    var index: String?
    @Option(help: "Where function folders live.")
    var functionsDir = "functions"
    @Option(help: "Score {\"label\", \"predicted\"} lines instead of running a function.")
    var predictions: String?
    @Option(help: "Also write each example's prediction here (JSON lines).")
    var predictionsOut: String?
    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func run() throws {
        if let predictions {
            let rows = try Self.lines(predictions)
            let truth = try rows.enumerated().map { number, row in
                guard let label = row["label"]?.string, row["predicted"]?.string != nil else {
                    throw ValidationError(
                        "\(predictions) line \(number + 1): expected {\"label\": ..., \"predicted\": ...}")
                }
                return label
            }
            let report = ClassificationReport(truth: truth, predicted: rows.map { $0["predicted"]!.string! })
            emit(report.json, text: report.text)
            return
        }
        guard let function, let labeled else {
            throw ValidationError("give a function and a labeled set (or --predictions FILE)")
        }
        let folder = URL(fileURLWithPath: functionsDir).appendingPathComponent(function).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw ValidationError("no function folder \(folder)")
        }
        let environment = FunctionEnvironment { name in
            switch name {
            case "LAMBDA_TASK_ROOT": folder
            case "AWS_LAMBDA_FUNCTION_NAME": function
            case "_HANDLER": function
            default: nil
            }
        }
        // Metrics lines would interleave with the report; the handler's EMF goes to /dev/null here.
        let quiet = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(quiet) }
        let overrides = ["FLINT_MODEL": model, "FLINT_INDEX": index].compactMapValues { $0 }
        let variables: @Sendable (String) -> String? = { name in
            overrides[name] ?? FunctionEnvironment.processVariable(name)
        }
        let logger = Logger(level: .warn, fileDescriptor: 2)
        guard let factory = FunctionRegistry.all.factory(named: function) else {
            throw ValidationError(
                "no handler named \(function); known: \(FunctionRegistry.all.names.joined(separator: ", "))")
        }
        let handler = try factory(
            HandlerInitContext(
                function: environment, logger: logger, outputFileDescriptor: quiet,
                variables: variables))
        let rows = try Self.lines(labeled)
        guard !rows.isEmpty else { throw ValidationError("\(labeled) holds no examples") }

        var latencies: [Double] = []
        var predictionLines: [JSONValue] = []
        func invoke(_ event: JSONValue) throws -> JSONValue {
            var headers = InvocationMetadata.RawHeaders()
            headers.requestID = "eval-\(latencies.count + 1)"
            headers.deadline = String(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)
            headers.invokedFunctionARN = "arn:aws:lambda:local:000000000000:function:\(function)"
            let context = LambdaContext(
                invocation: try InvocationMetadata(headers: headers), function: environment, logger: logger)
            var response: [UInt8] = []
            let started = DispatchTime.now()
            try handler.handle(event.jsonBytes, context: context, response: &response)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6)
            return try JSONValue(parsing: response)
        }

        var figures: JSONValue
        var text: String
        switch function {
        case "classify":
            var truth: [String] = [], predicted: [String] = []
            for (number, row) in rows.enumerated() {
                guard let input = row["text"]?.string, let label = row["label"]?.string else {
                    throw ValidationError("\(labeled) line \(number + 1): expected {\"text\": ..., \"label\": ...}")
                }
                let answer = try invoke(.object(["input": .string(input), "truncate": .bool(true)]))
                let guess = answer["results"]?.array?.first?["label"]?.string ?? ""
                truth.append(label)
                predicted.append(guess)
                predictionLines.append(.object(["label": .string(label), "predicted": .string(guess)]))
            }
            let report = ClassificationReport(truth: truth, predicted: predicted)
            figures = report.json
            text = report.text
        case "embed":
            var cosines: [Double] = []
            for (number, row) in rows.enumerated() {
                guard let input = row["text"]?.string, let reference = row["embedding"]?.array?.compactMap(\.number),
                    !reference.isEmpty
                else {
                    throw ValidationError(
                        "\(labeled) line \(number + 1): expected {\"text\": ..., \"embedding\": [numbers]}")
                }
                let answer = try invoke(.object(["input": .string(input), "truncate": .bool(true)]))
                let vector = answer["data"]?.array?.first?["embedding"]?.array?.compactMap(\.number) ?? []
                guard vector.count == reference.count else {
                    throw ValidationError(
                        "line \(number + 1): the function returned \(vector.count) dimensions, the reference has \(reference.count)"
                    )
                }
                let cosine = Self.cosine(vector, reference)
                cosines.append(cosine)
                predictionLines.append(.object(["text": .string(input), "cosine": .number(cosine)]))
            }
            let sorted = cosines.sorted()
            let mean = cosines.reduce(0, +) / Double(cosines.count)
            figures = .object([
                "cosine": .object([
                    "mean": .number(mean), "min": .number(sorted[0]),
                    "p5": .number(sorted[sorted.count * 5 / 100]),
                ]), "total": .number(Double(cosines.count)),
            ])
            text =
                "cosine to the reference over \(cosines.count) texts: mean \(String(format: "%.5f", mean)), "
                + "minimum \(String(format: "%.5f", sorted[0])), 5th percentile \(String(format: "%.5f", sorted[sorted.count * 5 / 100]))"
        case "search":
            var hitsAt1 = 0, hitsAtK = 0, reciprocal = 0.0
            for (number, row) in rows.enumerated() {
                guard let query = row["query"]?.string, let expected = row["id"], expected != .null else {
                    throw ValidationError(
                        "\(labeled) line \(number + 1): expected {\"query\": ..., \"id\": expected document id}")
                }
                let answer = try invoke(.object(["query": .string(query)]))
                let ids = answer["results"]?.array?.map { $0["document"]?["id"] ?? .null } ?? []
                if let rank = ids.firstIndex(of: expected) {
                    if rank == 0 { hitsAt1 += 1 }
                    hitsAtK += 1
                    reciprocal += 1 / Double(rank + 1)
                }
                predictionLines.append(.object(["query": .string(query), "id": expected, "found": .array(ids)]))
            }
            let total = Double(rows.count)
            figures = .object([
                "hitAt1": .number(Double(hitsAt1) / total), "hitAtK": .number(Double(hitsAtK) / total),
                "mrr": .number(reciprocal / total), "total": .number(total),
            ])
            text =
                "hit@1 \(format3(Double(hitsAt1) / total)), hit@k \(format3(Double(hitsAtK) / total)), MRR \(format3(reciprocal / total)) over \(rows.count) queries"
        case "rerank":
            (figures, text) = try Self.rerank(rows, labeled: labeled) { query, documents in
                let answer = try invoke(.object(["query": .string(query), "documents": .array(documents)]))
                let ranked = answer["results"]?.array?.compactMap { $0["index"]?.integer } ?? []
                predictionLines.append(
                    .object(["query": .string(query), "ranked": .array(ranked.map { .number(Double($0)) })]))
                return ranked
            }
        default:
            throw ValidationError("flint eval knows classify, embed, search and rerank, not \(function)")
        }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        var members = figures.object ?? [:]
        members["latencyMs"] = .object([
            "p50": .number(percentile(0.5)), "p90": .number(percentile(0.9)),
            "p99": .number(percentile(0.99)), "max": .number(sorted.last ?? 0),
        ])
        text +=
            "\n\nlatency per invocation (handler only, \(sorted.count) invocations): p50 \(String(format: "%.2f", percentile(0.5))) ms, "
            + "p90 \(String(format: "%.2f", percentile(0.9))) ms, p99 \(String(format: "%.2f", percentile(0.99))) ms"
        if let predictionsOut {
            let body =
                predictionLines.map { String(decoding: $0.jsonBytes, as: UTF8.self) }.joined(separator: "\n") + "\n"
            try body.write(toFile: predictionsOut, atomically: true, encoding: .utf8)
        }
        emit(.object(members), text: text)
    }

    /// Ranking quality over labeled queries: NDCG@10 (binary relevance), MRR@10 and recall at 1, 5 and 10;
    /// `rank` gives the document indices best first.
    static func rerank(
        _ rows: [JSONValue], labeled: String, rank: (String, [JSONValue]) throws -> [Int]
    ) throws -> (JSONValue, String) {
        var ndcg = 0.0, mrr = 0.0
        var recall = [1: 0.0, 5: 0.0, 10: 0.0]
        for (number, row) in rows.enumerated() {
            guard let query = row["query"]?.string, let documents = row["documents"]?.array, !documents.isEmpty,
                let relevant = row["relevant"]?.array?.compactMap(\.integer), !relevant.isEmpty
            else {
                throw ValidationError(
                    "\(labeled) line \(number + 1): expected {\"query\": ..., \"documents\": [...], \"relevant\": [indices]}"
                )
            }
            let wanted = Set(relevant)
            let ranked = try rank(query, documents)
            var dcg = 0.0
            for (position, index) in ranked.prefix(10).enumerated() where wanted.contains(index) {
                dcg += 1 / log2(Double(position) + 2)
            }
            let ideal = (0..<min(10, wanted.count)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
            ndcg += dcg / ideal
            if let first = ranked.prefix(10).firstIndex(where: wanted.contains) { mrr += 1 / Double(first + 1) }
            for k in recall.keys {
                recall[k]! += Double(ranked.prefix(k).filter(wanted.contains).count) / Double(wanted.count)
            }
        }
        let total = Double(rows.count)
        let figures: JSONValue = .object([
            "ndcgAt10": .number(ndcg / total), "mrrAt10": .number(mrr / total),
            "recallAt1": .number(recall[1]! / total), "recallAt5": .number(recall[5]! / total),
            "recallAt10": .number(recall[10]! / total), "total": .number(total),
        ])
        let text =
            "NDCG@10 \(format3(ndcg / total)), MRR@10 \(format3(mrr / total)), recall@1 \(format3(recall[1]! / total)), "
            + "recall@5 \(format3(recall[5]! / total)), recall@10 \(format3(recall[10]! / total)) over \(rows.count) queries"
        return (figures, text)
    }

    private func emit(_ figures: JSONValue, text: String) {
        print(json ? String(decoding: figures.jsonBytes, as: UTF8.self) : text)
    }

    static func lines(_ path: String) throws -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().compactMap {
            number, line in
            line.allSatisfy(\.isWhitespace) ? nil : try TextInput.json(String(line), number: number + 1)
        }
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += x * y
            na += x * x
            nb += y * y
        }
        return dot / max((na * nb).squareRoot(), 1e-12)
    }
}
