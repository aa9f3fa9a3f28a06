/// The second moment of one linear layer's inputs over calibration tokens, XᵀX: what ``GPTQRounding`` needs to
/// know which rounding errors the layer's outputs feel. Accumulated in f64 from f32 rows; symmetric, so only the
/// upper triangle is summed and ``gram`` mirrors it when read.
public struct InputStatistics: Sendable {
    /// The layer's input width (the weight's columns).
    public let columns: Int
    /// Tokens (rows of X) seen so far.
    public private(set) var tokens = 0
    /// Each column's largest magnitude seen (what ``InputSmoothing`` balances against the weights').
    public private(set) var absMax: [Float]
    private var upper: [Double]

    /// Empty statistics for inputs of `columns` values.
    public init(columns: Int) {
        precondition(columns > 0, "a layer has at least one input")
        self.columns = columns
        upper = [Double](repeating: 0, count: columns * columns)
        absMax = [Float](repeating: 0, count: columns)
    }

    /// Adds `rows` input rows of ``columns`` values each, row-major.
    public mutating func add(_ x: UnsafeBufferPointer<Float>, rows: Int) {
        precondition(x.count >= rows * columns, "fewer values than rows × columns")
        let k = columns
        var row = [Double](repeating: 0, count: k)
        upper.withUnsafeMutableBufferPointer { sums in
            for r in 0..<rows {
                for c in 0..<k {
                    row[c] = Double(x[r * k + c])
                    absMax[c] = max(absMax[c], abs(x[r * k + c]))
                }
                row.withUnsafeBufferPointer { v in
                    for i in 0..<k where v[i] != 0 {
                        let vi = v[i], line = sums.baseAddress! + i * k
                        for j in i..<k { line[j] += vi * v[j] }
                    }
                }
            }
        }
        tokens += rows
    }

    /// The statistics of the same inputs with column j multiplied by `multipliers[j]`.
    public func scaled(by multipliers: [Float]) -> InputStatistics {
        precondition(multipliers.count == columns, "one multiplier a column")
        var result = self
        for i in 0..<columns {
            result.absMax[i] = absMax[i] * abs(multipliers[i])
            for j in i..<columns { result.upper[i * columns + j] *= Double(multipliers[i]) * Double(multipliers[j]) }
        }
        return result
    }

    /// XᵀX as a full `columns × columns` row-major matrix.
    public var gram: [Double] {
        var full = upper
        for i in 0..<columns { for j in 0..<i { full[i * columns + j] = upper[j * columns + i] } }
        return full
    }
}
