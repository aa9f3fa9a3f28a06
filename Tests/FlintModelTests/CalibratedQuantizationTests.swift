import FlintJSON
import FlintModel
import Foundation
import TestSupport
import Testing

/// GPTQ rounding and SmoothQuant input smoothing, the quantizer's two uses of calibration inputs: their arithmetic
/// on small matrices against plain definitions, and what they leave in a model file.
@Suite struct CalibratedQuantizationTests {
    /// `rows × columns` inputs whose columns are correlated (each a mix of a few shared sources) and unequal in
    /// scale, as a layer's real inputs are.
    static func correlatedInputs(rows: Int, columns: Int, generator: inout SeededGenerator) -> [Float] {
        let sources = 4
        let mix = (0..<(sources * columns)).map { _ in Float.random(in: -1...1, using: &generator) }
        var x = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let drawn = (0..<sources).map { _ in Float.random(in: -1...1, using: &generator) }
            for c in 0..<columns {
                var value = Float.random(in: -0.05...0.05, using: &generator)
                for s in 0..<sources { value += drawn[s] * mix[s * columns + c] }
                x[r * columns + c] = value * (c % 5 == 0 ? 4 : 1)
            }
        }
        return x
    }

    static func statistics(_ x: [Float], rows: Int, columns: Int) -> InputStatistics {
        var statistics = InputStatistics(columns: columns)
        x.withUnsafeBufferPointer { statistics.add($0, rows: rows) }
        return statistics
    }

    /// Σ over inputs of ‖(W − Ŵ) x‖², the error a layer's outputs carry.
    static func outputError(
        _ w: [Float], _ levels: [UInt8], _ scales: [Float], _ x: [Float], rows n: Int, columns k: Int, tokens: Int
    ) -> Double {
        var total = 0.0
        for t in 0..<tokens {
            for r in 0..<n {
                var sum = 0.0
                for c in 0..<k {
                    let restored = Double(Int8(bitPattern: levels[r * k + c])) * Double(scales[r])
                    sum += (Double(w[r * k + c]) - restored) * Double(x[t * k + c])
                }
                total += sum * sum
            }
        }
        return total
    }

    @Test func statisticsAreTheInputsSecondMomentAndLargestValues() {
        var generator = SeededGenerator(test: "statistics")
        let (rows, k) = (30, 7)
        let x = Self.correlatedInputs(rows: rows, columns: k, generator: &generator)
        var statistics = InputStatistics(columns: k)
        x.withUnsafeBufferPointer {
            statistics.add(UnsafeBufferPointer(rebasing: $0[0..<(10 * k)]), rows: 10)
            statistics.add(UnsafeBufferPointer(rebasing: $0[(10 * k)...]), rows: rows - 10)
        }
        #expect(statistics.tokens == rows)
        let gram = statistics.gram
        for i in 0..<k {
            #expect(statistics.absMax[i] == (0..<rows).map { abs(x[$0 * k + i]) }.max())
            for j in 0..<k {
                let expected = (0..<rows).reduce(0.0) { $0 + Double(x[$1 * k + i]) * Double(x[$1 * k + j]) }
                #expect(abs(gram[i * k + j] - expected) <= 1e-9 * max(1, abs(expected)), "(\(i), \(j))")
            }
        }
        // Scaling the statistics is scaling the inputs.
        let multipliers = (0..<k).map { Float($0 + 1) / 4 }
        let scaled = statistics.scaled(by: multipliers)
        let direct = Self.statistics(x.indices.map { x[$0] * multipliers[$0 % k] }, rows: rows, columns: k)
        // (The direct inputs were multiplied in f32: agreement to f32 rounding.)
        for (a, b) in zip(scaled.gram, direct.gram) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        #expect(zip(scaled.absMax, direct.absMax).allSatisfy { abs($0 - $1) <= 1e-6 * $1 })
    }

    @Test func gptqLowersTheOutputsErrorOnTheSameGrid() throws {
        var generator = SeededGenerator(test: "gptq")
        let (n, k, tokens) = (24, 48, 400)
        let x = Self.correlatedInputs(rows: tokens, columns: k, generator: &generator)
        let w = (0..<(n * k)).map { _ in Float.random(in: -0.3...0.3, using: &generator) }
        let statistics = Self.statistics(x, rows: tokens, columns: k)
        let rounded = try #require(GPTQRounding.quantize(w, rows: n, columns: k, statistics: statistics))
        // Nearest rounding onto the same per-row grid.
        var nearest = [UInt8](repeating: 0, count: n * k), scales = [Float](repeating: 0, count: n)
        for r in 0..<n {
            let largest = (0..<k).map { abs(w[r * k + $0]) }.max()!
            scales[r] = largest / 127
            for c in 0..<k {
                nearest[r * k + c] = UInt8(bitPattern: Int8((w[r * k + c] / scales[r]).rounded()))
            }
        }
        #expect(rounded.scales == scales, "the grid is nearest rounding's")
        for r in 0..<n {
            let largest = (0..<k).max { abs(w[r * k + $0]) < abs(w[r * k + $1]) }!
            #expect(Int8(bitPattern: rounded.data[r * k + largest]) == (w[r * k + largest] < 0 ? -127 : 127))
        }
        let gptq = Self.outputError(w, rounded.data, rounded.scales, x, rows: n, columns: k, tokens: tokens)
        let plain = Self.outputError(w, nearest, scales, x, rows: n, columns: k, tokens: tokens)
        #expect(gptq < 0.7 * plain, "output error \(gptq) against nearest rounding's \(plain)")
        #expect(rounded.error > 0 && rounded.error < 0.02)
    }

    @Test func gptqIsNearestRoundingWhenInputsAreIndependent() throws {
        // A diagonal second moment leaves nothing to pay an error back with: the factor is diagonal too, so every
        // weight rounds to nearest. Checks the factorisation's bookkeeping exactly.
        var generator = SeededGenerator(test: "gptq-diagonal")
        let (n, k) = (16, 20)
        var x = [Float](repeating: 0, count: k * k)
        for c in 0..<k { x[c * k + c] = Float(c + 1) }
        let w = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &generator) }
        let rounded = try #require(
            GPTQRounding.quantize(w, rows: n, columns: k, statistics: Self.statistics(x, rows: k, columns: k)))
        for r in 0..<n {
            for c in 0..<k {
                let expected = Int8((w[r * k + c] / rounded.scales[r]).rounded())
                #expect(Int8(bitPattern: rounded.data[r * k + c]) == expected, "(\(r), \(c))")
            }
        }
    }

    @Test func smoothingFactorsBalanceInputsAgainstWeights() {
        let factors = InputSmoothing.factors(
            inputMaxima: [16, 1, 0, 4], weightMaxima: [1, 4, 2, 0.25], strength: 0.5)
        #expect(zip(factors, [4, 0.5, 1, 4] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(factors)")
        #expect(InputSmoothing.factors(inputMaxima: [9], weightMaxima: [3], strength: 1) == [9])
        #expect(
            InputSmoothing.tensorName(forWeight: "encoder.layer.3.attention.self.key.weight")
                == "encoder.layer.3.attention.self.input_smoothing")
        #expect(
            InputSmoothing.tensorName(forWeight: "encoder.layer.0.output.dense.weight")
                == "encoder.layer.0.output.dense.input_smoothing")
    }

    @Test func smoothedFileKeepsTheProductAndNamesTheMultipliers() throws {
        let bert = try TinyBert()
        defer { bert.remove() }
        var generator = SeededGenerator(test: "smoothing-file")
        // Inputs with one outlier column, as a LayerNorm's output has.
        var statistics: [String: InputStatistics] = [:]
        for (name, (shape, _)) in bert.weights where name.hasPrefix("encoder.") && name.hasSuffix(".weight") {
            guard shape.count == 2 else { continue }
            var x = Self.correlatedInputs(rows: 64, columns: shape[1], generator: &generator)
            for r in 0..<64 { x[r * shape[1] + 3] *= 100 }
            statistics[name] = Self.statistics(x, rows: 64, columns: shape[1])
        }
        // The attention projections share their input, so their statistics are the same.
        for layer in 0..<2 {
            let p = "encoder.layer.\(layer).attention.self."
            statistics[p + "key.weight"] = statistics[p + "query.weight"]
            statistics[p + "value.weight"] = statistics[p + "query.weight"]
        }
        let (bytes, _) = try Quantizer.quantize(
            directory: bert.directory.path, modelName: "tiny", inputStatistics: statistics, gptq: false,
            smoothing: 0.5)
        let model = try ModelFile(bytes: bytes, verifyChecksum: true)
        #expect(model.version == Int(ModelFormat.version) && ModelFormat.version == 4)
        #expect(model.metadata["inputSmoothing"] == .number(0.5) && model.metadata["linearRounding"] == nil)
        let multipliers = model.tensors.keys.filter { $0.hasSuffix(".input_smoothing") }.sorted()
        #expect(multipliers.count == 2 * 4, "\(multipliers)")
        for (name, (shape, original)) in bert.weights where statistics[name] != nil {
            let m = try #require(model.floats(InputSmoothing.tensorName(forWeight: name)))
            let stored = try #require(model.dequantized(name))
            // Column j was multiplied by 1/m_j: undoing it gives the weight back within int8 rounding.
            let rowLargest = (0..<shape[0]).map { r in (0..<shape[1]).map { abs(stored[r * shape[1] + $0]) }.max()! }
            for index in original.indices {
                let restored = stored[index] * m[index % shape[1]]
                let step = rowLargest[index / shape[1]] / 127 * m[index % shape[1]]
                #expect(abs(restored - original[index]) <= step * 0.51 + 1e-7, "\(name)[\(index)]")
            }
            // The outlier column is scaled down before quantization.
            #expect(m[3] < m.enumerated().filter { $0.offset != 3 }.map(\.element).min()!, "\(name): \(Array(m))")
        }
        // Smoothing without statistics for every layer is an error, not a silent half-smoothed file.
        var partial = statistics
        partial["encoder.layer.1.output.dense.weight"] = nil
        #expect(throws: ModelFileError.self) {
            try Quantizer.quantize(
                directory: bert.directory.path, modelName: "tiny", inputStatistics: partial, smoothing: 0.5)
        }
        var wrong = statistics
        wrong["encoder.layer.0.intermediate.dense.weight"] = InputStatistics(columns: 5)
        #expect(throws: ModelFileError.self) {
            try Quantizer.quantize(directory: bert.directory.path, modelName: "tiny", inputStatistics: wrong)
        }
    }
}
