import FlintJSON
import LambdaRuntime

/// The answer to an SQS batch: `{"batchItemFailures": [{"itemIdentifier"}], "results": [{"messageId", "response"}]}`
/// (`results` only when returned), kept under Lambda's 6 MB response limit record by record.
///
/// A record whose answer would push the response past the limit is listed as failed instead, with a warning, so
/// SQS retries it (in another batch) rather than every record of this one failing with
/// `Function.ResponseSizeTooLarge`.
struct SQSBatchAnswer {
    /// What the response may hold; room is left for the failures list.
    static let budget = LambdaRuntime.maximumResponseBytes - 64 * 1024

    private var failures: [String] = []
    private var results: [UInt8] = []
    private var resultCount = 0

    /// Lists a record as failed: SQS delivers it again.
    mutating func fail(_ record: SQSRecord) { failures.append(record.messageID) }

    /// Adds a record's answer, or fails the record when the answer does not fit in what is left.
    mutating func add(_ record: SQSRecord, response: [UInt8], context: LambdaContext) {
        let entry = response.count + record.messageID.utf8.count + 64
        guard results.count + entry + failures.count * 128 <= Self.budget else {
            context.logger.warn(
                "SQS message \(record.messageID): its answer (\(response.count) bytes) does not fit in this batch's 6 MB response; it is retried"
            )
            fail(record)
            return
        }
        if resultCount > 0 { results.append(UInt8(ascii: ",")) }
        results.append(contentsOf: #"{"messageId":"#.utf8)
        JSONText.appendString(record.messageID, to: &results)
        results.append(contentsOf: #","response":"#.utf8)
        results.append(contentsOf: response)
        results.append(UInt8(ascii: "}"))
        resultCount += 1
    }

    /// How many records failed.
    var failureCount: Int { failures.count }

    /// Writes the answer; `includeResults` false leaves `results` out (they went to the log).
    func write(includeResults: Bool, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"batchItemFailures":["#.utf8)
        for (index, identifier) in failures.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"itemIdentifier":"#.utf8)
            JSONText.appendString(identifier, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if includeResults {
            out.append(contentsOf: #","results":["#.utf8)
            out.append(contentsOf: results)
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }
}
