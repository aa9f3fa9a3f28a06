#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SmoothQuant's per-column smoothing (Xiao et al., 2023) of a linear layer's inputs: activations are divided by
/// s_j and the weight's column j multiplied by it before both are quantized, with s_j = max|x_j|^α / max|w_j|^(1−α).
/// Columns whose calibration inputs run large (MiniLM's LayerNorm outputs have a few at 10–30× the others) no
/// longer set the scale of the 63 values quantized beside them, and the weights absorb what they can spare. The
/// product is unchanged in exact arithmetic; only the rounding moves.
///
/// BERT's LayerNorm output is also its residual stream, so the division cannot be folded into LayerNorm's
/// parameters: the file stores the multipliers 1/s_j (`<layer>.input_smoothing`, f32 `[in]`; the three attention
/// projections share `attention.self.input_smoothing`, as they share one quantization of their input) and the
/// encoder applies them as it quantizes (`flint_quantize_groups_smoothed`), a multiply per value.
public enum InputSmoothing {
    /// α, chosen by measurement on MiniLM with GPTQ rounding (BENCHMARKS.md, issue 17): 0.35 to 0.5 halve the
    /// embeddings' error against fp32; above 0.5 the weights' rounding takes it back, and at 0.5 (with GPTQ's usual
    /// damping) a text repeating one punctuation mark lost fidelity that 0.35 keeps.
    public static let defaultStrength = 0.35

    /// s_j for inputs whose largest magnitudes are `inputMaxima` and weights whose largest per column are
    /// `weightMaxima`, at strength α; 1 for a column either side never uses.
    public static func factors(inputMaxima: [Float], weightMaxima: [Float], strength alpha: Double) -> [Float] {
        precondition(inputMaxima.count == weightMaxima.count, "one maximum a column each side")
        return zip(inputMaxima, weightMaxima).map { input, weight in
            guard input > 0 && weight > 0 else { return 1 }
            let factor = pow(Double(input), alpha) / pow(Double(weight), 1 - alpha)
            return Float(min(max(factor, 1e-4), 1e4))
        }
    }

    /// The name of the multipliers tensor for the linear weight `weightName` (`encoder.layer.N.….weight`).
    public static func tensorName(forWeight weightName: String) -> String {
        let layer = weightName.dropLast(".weight".count)
        for projection in [".attention.self.query", ".attention.self.key", ".attention.self.value"]
        where layer.hasSuffix(projection) {
            return layer.dropLast(projection.count) + ".attention.self.input_smoothing"
        }
        return layer + ".input_smoothing"
    }
}
