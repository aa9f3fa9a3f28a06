import ArgumentParser
import Foundation

/// An event-volume profile for `flint bench --profile`: an arrival rate for every second of a run, and the
/// schedule of arrivals it makes (open loop: each request has a start time, whether or not earlier ones finished).
///
/// - `steady:R/Ts` — R requests a second for T seconds;
/// - `ramp:A-B/Ts` — from A to B requests a second, linearly, over T seconds;
/// - `spike:A-B/Ts` — A a second, B for the middle fifth of the T seconds, then A again;
/// - a file: one rate per line (requests in that second), or a JSON array of them.
struct LoadProfile: Equatable {
    /// Requests in each second of the run.
    let rates: [Double]
    /// How it was written, for the report.
    let name: String

    init(rates: [Double], name: String) {
        self.rates = rates
        self.name = name
    }

    /// Parses `text` (a profile or a file's path); a malformed one is a one-line error saying the forms.
    init(_ text: String) throws {
        let forms = "steady:R/Ts, ramp:A-B/Ts, spike:A-B/Ts or a file of per-second rates"
        if let data = FileManager.default.contents(atPath: text) {
            let body = String(decoding: data, as: UTF8.self)
            let numbers: [Double]
            if let array = try? JSONSerialization.jsonObject(with: data) as? [Any] {
                numbers = try array.map {
                    guard let number = ($0 as? NSNumber)?.doubleValue else {
                        throw ValidationError("\(text): a JSON profile is an array of numbers")
                    }
                    return number
                }
            } else {
                numbers = try body.split(whereSeparator: \.isNewline).compactMap { line in
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
                    guard let number = Double(trimmed) else {
                        throw ValidationError("\(text): '\(trimmed)' is not a rate (one number per line)")
                    }
                    return number
                }
            }
            guard !numbers.isEmpty, numbers.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw ValidationError("\(text): a profile needs at least one rate, none negative")
            }
            self.init(rates: numbers, name: text)
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let slash = parts[1].lastIndex(of: "/"), parts[1].hasSuffix("s"),
            let seconds = Int(parts[1][parts[1].index(after: slash)...].dropLast()), (1...86_400).contains(seconds)
        else { throw ValidationError("--profile '\(text)' is not \(forms)") }
        let values = parts[1][..<slash].split(separator: "-", omittingEmptySubsequences: false).map { Double($0) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw ValidationError("--profile '\(text)' is not \(forms)")
        }
        let numbers = values.map { $0! }
        switch (parts[0], numbers.count) {
        case ("steady", 1):
            self.init(rates: Array(repeating: numbers[0], count: seconds), name: text)
        case ("ramp", 2):
            let (from, to) = (numbers[0], numbers[1])
            self.init(
                rates: (0..<seconds).map { from + (to - from) * (Double($0) + 0.5) / Double(seconds) }, name: text)
        case ("spike", 2):
            let start = Int((Double(seconds) * 0.4).rounded()),
                end = max(start + 1, Int((Double(seconds) * 0.6).rounded()))
            self.init(rates: (0..<seconds).map { (start..<end).contains($0) ? numbers[1] : numbers[0] }, name: text)
        default:
            throw ValidationError("--profile '\(text)' is not \(forms)")
        }
    }

    /// When each request starts, in seconds from the run's start: second `s`'s requests evenly spread over it,
    /// fractional rates carried over so the total is the sum of the rates (rounded).
    var schedule: [Double] {
        var times: [Double] = []
        var carried = 0.0
        for (second, rate) in rates.enumerated() {
            let due = rate + carried
            let count = Int(due.rounded(.down))
            carried = due - Double(count)
            for index in 0..<count { times.append(Double(second) + (Double(index) + 0.5) / Double(count)) }
        }
        return times
    }
}
