import CKernels
import FlintModel

/// Exact (brute-force) nearest-neighbour search over a ``VectorIndex``: the query is quantized like the documents
/// and scored against every row in one packed int8 matrix-vector product on the SIMD kernels, then the best `k`
/// are kept with a bounded selection. Scores approximate cosine similarity for normalised vectors (the int8
/// rounding moves them by about 0.003). No approximate index structure: 10,000 MiniLM documents take a fraction
/// of a millisecond.
public struct VectorSearch: Sendable {
    /// The index searched.
    public let index: VectorIndex
    /// Each document's int8 sum (`flint_weight_group_sums` with one group), when the kernel path reads them.
    private let sums: [Int32]?

    /// Wraps an index.
    public init(index: VectorIndex) {
        self.index = index
        if flint_kernel_uses_group_sums() != 0 && index.count > 0 {
            var sums = [Int32](repeating: 0, count: index.paddedCount)
            flint_weight_group_sums(
                Int32(index.paddedCount), Int32(index.dimensions), Int32(index.dimensions), index.vectors, &sums)
            self.sums = sums
        } else {
            sums = nil
        }
    }

    /// The `k` best documents for `query` (as the model returns it), best first, as (document index, score).
    public func search(_ query: [Float], top k: Int) -> [(index: Int, score: Float)] {
        precondition(
            query.count == index.dimensions, "query has \(query.count) dimensions, the index \(index.dimensions)")
        guard index.count > 0, k > 0 else { return [] }
        var quantized = [Int8](repeating: 0, count: query.count)
        var queryScale: Float = 0
        flint_quantize_rows(1, Int32(query.count), query, &quantized, &queryScale)
        var scores = [Float](repeating: 0, count: index.paddedCount)
        index.vectors.withUnsafeBufferPointer { vectors in
            index.scales.withUnsafeBufferPointer { scales in
                flint_linear_s8_packed(
                    1, Int32(index.paddedCount), Int32(index.dimensions), Int32(index.dimensions),
                    quantized, &queryScale, vectors.baseAddress, scales.baseAddress, nil, sums, &scores)
            }
        }
        // Bounded selection: keep the best k in a small sorted buffer (k is small; n is large).
        var best: [(index: Int, score: Float)] = []
        best.reserveCapacity(min(k, index.count) + 1)
        for document in 0..<index.count {
            let score = scores[document]
            if best.count == k, let worst = best.last, score <= worst.score { continue }
            let position = best.firstIndex { score > $0.score } ?? best.count
            best.insert((document, score), at: position)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
