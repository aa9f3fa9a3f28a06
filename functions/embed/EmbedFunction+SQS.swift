import FlintJSON
import LambdaRuntime

/// SQS batches: every record (a plain text, or a JSON request) embedded in one packed forward pass. Records that
/// fail validation are listed in `batchItemFailures`, so only they are retried. Results are returned beside it
/// (`sqs.results`: `return`, the default) or written to the log as one EMF line per record (`log`). A record's
/// `"stream": true` changes nothing here: there is no caller to stream to, and the buffered limits apply.
extension EmbedFunction {
    func answer(
        _ records: [SQSRecord], context: LambdaContext, measured: inout InvocationMetrics,
        into out: inout [UInt8]
    ) throws(InputError) {
        var batch = SQSBatchAnswer()
        var accepted: [(record: SQSRecord, request: EmbeddingRequest, sequences: [[Int32]], tokens: Int)] = []
        var stopwatch = Stopwatch()
        for record in records {
            do throws(InputError) {
                let request = try Self.request(from: record, limits: limits, model: model)
                logInputs(request.inputs, context: context)
                let before = measured.tokens
                let sequences = try model.tokenize(request, limits: limits, measured: &measured)
                accepted.append((record, request, sequences, measured.tokens - before))
            } catch {
                context.logger.warn("SQS message \(record.messageID) refused: \(error.message)")
                batch.fail(record)
            }
        }
        measured.rejected = batch.failureCount
        measured.tokenizeMilliseconds = stopwatch.lap()
        // One packed pass per normalisation choice (almost always a single one).
        var vectors = [[[Float]]](repeating: [], count: accepted.count)
        for choice in Set(accepted.map(\.request.normalize)) {
            let members = accepted.indices.filter { accepted[$0].request.normalize == choice }
            let sequences = members.flatMap { accepted[$0].sequences }
            let results = model.embed(sequences, normalize: choice)
            drift?.observe(sequences, vectors: results)
            var offset = 0
            for member in members {
                let count = accepted[member].sequences.count
                vectors[member] = Array(results[offset..<(offset + count)])
                offset += count
            }
        }
        measured.forwardMilliseconds = stopwatch.lap()

        var answer: [UInt8] = []
        for (index, item) in accepted.enumerated() {
            answer.removeAll(keepingCapacity: true)
            writer.writeList(vectors[index], tokens: item.tokens, format: item.request.encodingFormat, into: &answer)
            switch sqsResults {
            case .return:
                batch.add(item.record, response: answer, context: context)
            case .log:
                metrics.emit(
                    [("Embeddings", "Count", Double(vectors[index].count))],
                    properties: ["messageId": .string(item.record.messageID)], embedded: ("response", answer))
            }
        }
        batch.write(includeResults: sqsResults == .return, into: &out)
    }

    /// A record's request: a JSON object body is a request; any other body is one text.
    static func request(
        from record: SQSRecord, limits: InputLimits, model: EmbeddingModel
    ) throws(InputError) -> EmbeddingRequest {
        let trimmed = record.body.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        let document: JSONValue
        if trimmed.first == "{" {
            do { document = try JSONValue(parsing: record.body) } catch {
                throw InputError("the message body is not valid JSON: \(error)")
            }
        } else {
            document = .object(["input": .string(record.body)])
        }
        return try EmbeddingRequest(
            document, limits: limits, modelName: model.name, dimensions: model.dimensions, streamable: false)
    }
}
