import ArgumentParser
import FlintJSON
import Foundation

/// Lambda's on-demand prices for one architecture, from a small data file the user can update
/// (`deploy/lambda-prices.json`: region, currency, the date they were recorded, where from).
struct LambdaPrices {
    /// USD (or `currency`) per GB-second of billed duration.
    let perGBSecond: Double
    /// Per million requests.
    let perMillionRequests: Double
    let region: String
    let currency: String
    let recorded: String
    let architecture: String

    /// Reads `path` for `architecture`; a missing file, architecture or price is a one-line error.
    init(path: String, architecture: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the price file \(path) (--prices)")
        }
        let document: JSONValue
        do { document = try JSONValue(parsing: Array(data)) } catch { throw ValidationError("\(path): \(error)") }
        guard let prices = document["architectures"]?[architecture] else {
            let known = document["architectures"]?.object?.keys.sorted().joined(separator: ", ") ?? "none"
            throw ValidationError("\(path) has no prices for \(architecture) (it has: \(known))")
        }
        guard let gigabyteSecond = prices["perGBSecond"]?.number, gigabyteSecond >= 0,
            let requests = prices["perMillionRequests"]?.number, requests >= 0
        else {
            throw ValidationError("\(path): \(architecture) needs perGBSecond and perMillionRequests numbers")
        }
        perGBSecond = gigabyteSecond
        perMillionRequests = requests
        region = document["region"]?.string ?? "?"
        currency = document["currency"]?.string ?? "USD"
        recorded = document["recorded"]?.string ?? "?"
        self.architecture = architecture
    }

    /// What a million invocations cost at `memoryMegabytes` with a mean billed duration of `billedMilliseconds`.
    func perMillion(memoryMegabytes: Int, billedMilliseconds: Double) -> Double {
        1_000_000 * Double(memoryMegabytes) / 1024 * billedMilliseconds / 1000 * perGBSecond + perMillionRequests
    }
}
