#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An axis range widened to round values, with ticks at a round step (1, 2 or 5 × a power of ten) — six to a dozen of
/// them. With `tight`, the ends stay at the data's own low and high and only the ticks are round.
struct NiceScale: Equatable {
    let low: Double
    let high: Double
    let step: Double

    init(low rawLow: Double, high rawHigh: Double, tight: Bool = false) {
        var low = rawLow, high = rawHigh
        if !(high > low) { high = low + (low == 0 ? 1 : abs(low)) }
        let rough = (high - low) / 6
        let magnitude = pow(10, floor(log10(rough)))
        let fraction = rough / magnitude
        let step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
        if !tight {
            low = floor(low / step) * step
            high = ceil(high / step) * step
        }
        self.low = low
        self.high = high
        self.step = step
    }

    /// The round values from low to high.
    var ticks: [Double] {
        var values: [Double] = []
        var value = ceil(low / step - 1e-9) * step
        while value <= high + step * 1e-9 {
            values.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return values
    }
}
