#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// GPTQ rounding (Frantar et al., 2022) of one linear layer's weights onto the same per-row int8 grid that
/// round-to-nearest uses (scale = max|row| / 127): each weight is still rounded to a level of that grid, but one
/// column at a time, and each rounding error is paid back by the row's not-yet-rounded weights in proportion to how
/// their inputs correlate (the inverse of the inputs' second moment, ``InputStatistics``). The layer's outputs on
/// inputs like the calibration texts' end up closer to f32 than with nearest rounding, at no cost when the model
/// runs: the file, the kernels and the scales are the same.
///
/// Each row's largest weight is kept on ±127, so its scale is exactly the one nearest rounding gives and a reader
/// cannot tell the two apart. The weights' own error ‖w − ŵ‖ grows a little; it is the outputs' that shrinks.
/// Deterministic. What it does not do: reorder columns (activation order did not help MiniLM), calibrate one layer
/// on another's quantized outputs, or change the activations' quantization.
public enum GPTQRounding {
    /// The diagonal's relative damping (a fraction of its mean added to every diagonal entry): it keeps the
    /// factorisation stable when calibration tokens are fewer than inputs, and the rounding from fitting the
    /// calibration texts too closely. The paper uses 0.01; with MiniLM's 90 calibration texts, 0.01 lost
    /// nearest-neighbour agreement on texts unlike them (the 520-text fixture's odd ones, a punctuation mark
    /// repeated) that 0.15 keeps, at the same gain on everyday sentences (BENCHMARKS.md, issue 17).
    public static let defaultDamping = 0.15

    /// Int8 levels (row-major, `rows × columns`, as bytes), one scale a row, and ‖w − ŵ‖ / ‖w‖ for `weights`
    /// (`rows × columns`, row-major) rounded against `statistics` of its inputs. Nil when the damped second moment
    /// is not positive definite (the caller rounds to nearest then).
    public static func quantize(
        _ weights: [Float], rows: Int, columns: Int, statistics: InputStatistics, damping: Double = defaultDamping
    ) -> (data: [UInt8], scales: [Float], error: Double)? {
        precondition(statistics.columns == columns && weights.count == rows * columns, "shapes do not match")
        guard let factor = inverseFactor(statistics.gram, size: columns, damping: damping) else { return nil }
        let k = columns
        var data = [UInt8](repeating: 0, count: rows * k)
        var scales = [Float](repeating: 0, count: rows)
        var errorSum = 0.0, normSum = 0.0
        // Rows are independent; a block of them shares each pass over the factor's rows, which for wide layers
        // (1536 inputs: 18 MB in f64) do not stay in cache between rows.
        let block = 16
        var pending = [Double](repeating: 0, count: block * k)
        var pinned = [Int](repeating: -1, count: block)
        var pinnedSign = [Double](repeating: 1, count: block)
        for start in stride(from: 0, to: rows, by: block) {
            let count = min(block, rows - start)
            for r in 0..<count {
                let row = start + r
                var largest: Float = 0, at = -1
                for c in 0..<k where abs(weights[row * k + c]) > largest {
                    largest = abs(weights[row * k + c])
                    at = c
                }
                scales[row] = largest / 127
                pinned[r] = at
                pinnedSign[r] = at >= 0 && weights[row * k + at] < 0 ? -1 : 1
                for c in 0..<k { pending[r * k + c] = Double(weights[row * k + c]) }
            }
            pending.withUnsafeMutableBufferPointer { w in
                factor.withUnsafeBufferPointer { u in
                    for i in 0..<k {
                        let line = u.baseAddress! + i * k, diagonal = line[i]
                        for r in 0..<count {
                            let row = start + r, scale = Double(scales[row])
                            let value = w[r * k + i]
                            var level = scale == 0 ? 0 : min(max((value / scale).rounded(), -127), 127)
                            if pinned[r] == i { level = 127 * pinnedSign[r] }
                            data[row * k + i] = UInt8(bitPattern: Int8(level))
                            let error = (value - level * scale) / diagonal
                            guard error != 0 else { continue }
                            let tail = w.baseAddress! + r * k
                            for j in (i + 1)..<k { tail[j] -= error * line[j] }
                        }
                    }
                }
            }
            for row in start..<(start + count) {
                let scale = Double(scales[row])
                for c in 0..<k {
                    let original = Double(weights[row * k + c])
                    let difference = original - Double(Int8(bitPattern: data[row * k + c])) * scale
                    errorSum += difference * difference
                    normSum += original * original
                }
            }
        }
        return (data, scales, normSum == 0 ? 0 : (errorSum / normSum).squareRoot())
    }

    /// The upper-triangular U with UᵀU = (H + λI)⁻¹, row-major, for the symmetric `size × size` matrix H; inputs
    /// no calibration token used (a zero diagonal) count as independent. Nil when H + λI is not positive definite.
    ///
    /// With J the reversal of indices, a lower Cholesky factor of JHJ = LLᵀ gives H = (JLJ)(JLJ)ᵀ with JLJ upper
    /// triangular, so H⁻¹ = UᵀU for U = (JLJ)⁻¹ = J L⁻¹ J: one factorisation and one triangular inverse, each
    /// walking rows.
    static func inverseFactor(_ h: [Double], size k: Int, damping: Double) -> [Double]? {
        var diagonalMean = 0.0
        for i in 0..<k { diagonalMean += h[i * k + i] }
        diagonalMean /= Double(k)
        let lambda = damping * (diagonalMean > 0 ? diagonalMean : 1)
        // a = J (H + λI) J, then its lower Cholesky factor in place.
        var a = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { a[i * k + j] = h[(k - 1 - i) * k + (k - 1 - j)] }
            if a[i * k + i] == 0 { a[i * k + i] = 1 }
            a[i * k + i] += lambda
        }
        let ok = a.withUnsafeMutableBufferPointer { l -> Bool in
            for j in 0..<k {
                let rowJ = l.baseAddress! + j * k
                var sum = rowJ[j]
                for p in 0..<j { sum -= rowJ[p] * rowJ[p] }
                guard sum > 0 else { return false }
                let pivot = sum.squareRoot()
                rowJ[j] = pivot
                for i in (j + 1)..<k {
                    let rowI = l.baseAddress! + i * k
                    var s = rowI[j]
                    for p in 0..<j { s -= rowI[p] * rowJ[p] }
                    rowI[j] = s / pivot
                }
            }
            return true
        }
        guard ok else { return nil }
        // X = L⁻¹, row by row: X_i = (e_i − Σ_{p<i} L_ip X_p) / L_ii (X_p is zero past column p).
        var x = [Double](repeating: 0, count: k * k)
        a.withUnsafeBufferPointer { l in
            x.withUnsafeMutableBufferPointer { x in
                for i in 0..<k {
                    let out = x.baseAddress! + i * k
                    for p in 0..<i {
                        let coefficient = l[i * k + p]
                        guard coefficient != 0 else { continue }
                        let source = x.baseAddress! + p * k
                        for c in 0...p { out[c] -= coefficient * source[c] }
                    }
                    out[i] += 1
                    let pivot = l[i * k + i]
                    for c in 0...i { out[c] /= pivot }
                }
            }
        }
        // U = J X J.
        var u = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in i..<k { u[i * k + j] = x[(k - 1 - i) * k + (k - 1 - j)] } }
        return u
    }
}
