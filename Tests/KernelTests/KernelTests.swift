import CKernels
import CKernelsTesting
import Foundation
import Testing

/// Every instruction-set path of the packed int8 linear layer against the scalar reference, bit for bit on the
/// integer sums, over odd sizes, tiles and groups; and the float helpers against plain Swift.
@Suite struct KernelTests {
    static let paths: [flint_kernel_path] = [FLINT_KERNEL_AVX2, FLINT_KERNEL_AVX512VNNI, FLINT_KERNEL_NEON]

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func int8() -> Int8 { Int8(Int(next() % 255) - 127) }
    }

    /// out = a · wᵀ through the packed layer on `path`, with unit scales and no bias: every group's int32 sum is
    /// added in float in one order on every path, so equal integer sums give equal floats.
    static func unitSums(_ path: flint_kernel_path, m: Int, n: Int, k: Int, group: Int, a: [Int8], w: [Int8]) -> [Float]
    {
        var packed = [Int8](repeating: 0, count: n * k)
        flint_pack_s8(Int32(n), Int32(k), w, &packed)
        let sums = Self.groupSums(n: n, k: k, group: group, packed: packed)
        var out = [Float](repeating: .nan, count: m * n)
        flint_linear_s8_packed_path(
            path, Int32(m), Int32(n), 0, Int32(n), Int32(k), Int32(group), a,
            [Float](repeating: 1, count: m * (k / group)), packed, [Float](repeating: 1, count: n), nil, sums, &out)
        return out
    }

    /// flint_weight_group_sums of packed weights.
    static func groupSums(n: Int, k: Int, group: Int, packed: [Int8]) -> [Int32] {
        let groups = group > 0 && k % group == 0 && group % 4 == 0 ? k / group : 1
        var sums = [Int32](repeating: 0, count: groups * n)
        flint_weight_group_sums(Int32(n), Int32(k), Int32(group), packed, &sums)
        return sums
    }

    @Test func groupSumsAreEachRowsSumOverEachGroup() {
        var generator = Generator(state: 3)
        for (n, k, group) in [(8, 4, 4), (16, 64, 32), (24, 384, 64), (8, 96, 0)] {
            let w = (0..<(n * k)).map { _ in generator.int8() }
            var packed = [Int8](repeating: 0, count: n * k)
            flint_pack_s8(Int32(n), Int32(k), w, &packed)
            let size = group == 0 ? k : group
            let expected = (0..<(k / size)).flatMap { g in
                (0..<n).map { j in Int32(w[(j * k + g * size)..<(j * k + (g + 1) * size)].reduce(0) { $0 + Int($1) }) }
            }
            #expect(
                Self.groupSums(n: n, k: k, group: group, packed: packed) == expected, "n=\(n) k=\(k) group=\(group)")
        }
    }

    @Test func everySupportedPathMatchesTheScalarReference() {
        var generator = Generator(state: 7)
        let sizes: [(Int, Int, Int)] = [
            (1, 8, 4), (1, 8, 32), (3, 16, 36), (2, 8, 64), (5, 24, 68), (1, 384, 384),
            (4, 1536, 384), (3, 384, 1536), (9, 40, 128), (13, 64, 1000),
        ]
        var checked = 0
        for path in Self.paths where flint_kernel_supported(path) != 0 {
            for (m, n, k) in sizes {
                let a = (0..<(m * k)).map { _ in generator.int8() }
                var w = (0..<(n * k)).map { _ in generator.int8() }
                // Extremes too: the sign-transfer trick is exact only without -128, so ±127 must work.
                for index in stride(from: 0, to: w.count, by: 7) { w[index] = index % 2 == 0 ? 127 : -127 }
                let group = k % 64 == 0 ? 64 : k
                let expected = Self.unitSums(FLINT_KERNEL_SCALAR, m: m, n: n, k: k, group: group, a: a, w: w)
                let got = Self.unitSums(path, m: m, n: n, k: k, group: group, a: a, w: w)
                #expect(got == expected, "\(String(cString: flint_kernel_name(path))) differs at m=\(m) n=\(n) k=\(k)")
                checked += 1
            }
        }
        // This machine must run at least one SIMD path (AVX2 on x86_64, NEON on aarch64).
        #expect(checked >= sizes.count, "no SIMD path was available to check")
    }

    /// Paths are named as FLINT_KERNEL spells them, and forcing one this CPU lacks is refused and changes nothing
    /// (on x86 the NEON path is always such a one).
    @Test func selectionNamesPathsAndRefusesWhatThisCPULacks() {
        var path = FLINT_KERNEL_AVX2
        for candidate in [FLINT_KERNEL_SCALAR] + Self.paths {
            #expect(flint_kernel_named(flint_kernel_name(candidate), &path) == 1 && path == candidate)
        }
        #expect(flint_kernel_named("avx3", &path) == 0)
        let selected = flint_kernel_selected()
        #expect(flint_kernel_supported(selected) != 0)
        let lacking = Self.paths.filter { flint_kernel_supported($0) == 0 }
        #if arch(x86_64)
        #expect(lacking.contains(FLINT_KERNEL_NEON))
        #endif
        for missing in lacking {
            #expect(flint_kernel_force(missing) == 0)
            #expect(flint_kernel_selected() == selected)
        }
        #expect(flint_kernel_force(selected) == 1 && flint_kernel_selected() == selected)
    }

    @Test func linearLayerAppliesBothScalesAndBias() {
        let a: [Int8] = [1, -2, 3, 127]
        let w: [Int8] = [4, 5, -6, 7, -127, 0, 1, 2]
        // Two real output rows, padded to the packed layout's block of 8.
        let rows = w + [Int8](repeating: 0, count: 6 * 4)
        var packed = [Int8](repeating: 0, count: 8 * 4), out = [Float](repeating: 0, count: 8)
        flint_pack_s8(8, 4, rows, &packed)
        flint_linear_s8_packed(
            1, 8, 4, 4, a, [0.5], packed, [0.25, 2, 1, 1, 1, 1, 1, 1], [1, -1, 0, 0, 0, 0, 0, 0], nil, &out)
        let dot0 = Float(1 * 4 - 2 * 5 - 3 * 6 + 127 * 7), dot1 = Float(-127 + 0 + 3 + 254)
        #expect(out[0] == dot0 * 0.5 * 0.25 + 1)
        #expect(out[1] == dot1 * 0.5 * 2 - 1)
    }

    /// After flint_pool_wake the workers poll, and a layer of only 1–8 M multiply-adds splits too; split or not,
    /// each output is computed whole by one thread, so the floats equal the one-thread path's exactly.
    @Test func wokenPoolSplitsSmallLayersWithTheSameResult() {
        let (m, n, k, group) = (12, 384, 384, 64)  // 1.77 M multiply-adds: a 12-token text's Q/K/V layer
        var generator = Generator(state: 17)
        let a = (0..<(m * k)).map { _ in generator.int8() }
        let w = (0..<(n * k)).map { _ in generator.int8() }
        let aScales = (0..<(m * k / group)).map { Float($0 % 13 + 1) / 1000 },
            wScales = (0..<n).map { Float($0 % 7 + 1) / 100 }
        let bias = (0..<n).map { Float($0) / 10 }
        var packed = [Int8](repeating: 0, count: n * k)
        flint_pack_s8(Int32(n), Int32(k), w, &packed)
        var single = [Float](repeating: .nan, count: m * n)
        flint_linear_s8_packed_path(
            flint_kernel_selected(), Int32(m), Int32(n), 0, Int32(n), Int32(k), Int32(group), a, aScales,
            packed, wScales, bias, nil, &single)
        flint_pool_wake()
        if flint_thread_count() == 1 { #expect(flint_pool_polling() == 0) }
        for _ in 0..<50 {  // repeated, so that the workers are awake for most of them
            var threaded = [Float](repeating: .nan, count: m * n)
            flint_linear_s8_packed(
                Int32(m), Int32(n), Int32(k), Int32(group), a, aScales, packed, wScales, bias, nil, &threaded)
            #expect(threaded == single)
        }
    }

    @Test func threadedLinearEqualsOneThread() {
        // Large enough (64 × 1536 × 384 = 37.7 M multiply-adds) to be split over the pool; each output is computed
        // whole by one thread, so the floats equal the one-thread path's exactly.
        let (m, n, k, group) = (64, 1536, 384, 64)
        var generator = Generator(state: 11)
        let a = (0..<(m * k)).map { _ in generator.int8() }
        let w = (0..<(n * k)).map { _ in generator.int8() }
        let aScales = (0..<(m * k / group)).map { Float($0 % 29 + 1) / 1000 },
            wScales = (0..<n).map { Float($0 % 7 + 1) / 100 }
        let bias = (0..<n).map { Float($0) / 10 }
        var packed = [Int8](repeating: 0, count: n * k)
        flint_pack_s8(Int32(n), Int32(k), w, &packed)
        var single = [Float](repeating: .nan, count: m * n), threaded = single
        flint_linear_s8_packed_path(
            flint_kernel_selected(), Int32(m), Int32(n), 0, Int32(n), Int32(k), Int32(group), a, aScales,
            packed, wScales, bias, nil, &single)
        flint_linear_s8_packed(
            Int32(m), Int32(n), Int32(k), Int32(group), a, aScales, packed, wScales, bias, nil, &threaded)
        let mismatches = zip(single, threaded).filter { $0 != $1 }.count
        #expect(mismatches == 0, "\(mismatches) outputs differ (threads: \(flint_thread_count()))")
    }

    @Test func packingRoundTrips() {
        let (n, k) = (16, 12)
        let w = (0..<(n * k)).map { Int8(truncatingIfNeeded: $0 * 7 % 255 - 127) }
        var packed = [Int8](repeating: 0, count: n * k), back = packed
        flint_pack_s8(Int32(n), Int32(k), w, &packed)
        flint_unpack_s8(Int32(n), Int32(k), packed, &back)
        #expect(back == w)
        // Row 9, inputs 4…7: block 1, quad 1, row 1 of the block.
        #expect(
            Array(packed[(((1 * 3 + 1) * 8 + 1) * 4)..<(((1 * 3 + 1) * 8 + 1) * 4 + 4)])
                == Array(w[(9 * k + 4)..<(9 * k + 8)]))
    }

    /// The packed kernels against the exact value: the int32 group sums are exact, so only float rounding order may
    /// differ, bounded by the size of the terms.
    @Test func packedLinearMatchesTheExactValueOnEveryPath() {
        var generator = Generator(state: 13)
        let shapes: [(m: Int, n: Int, k: Int, group: Int)] = [
            (1, 8, 4, 4), (3, 16, 64, 32), (5, 24, 128, 64), (4, 384, 384, 64),
            (7, 1536, 384, 64), (2, 384, 1536, 64), (9, 40, 96, 96), (6, 32, 64, 0),
            (130, 24, 384, 64), (150, 48, 1536, 64),  // more rows than one 64-row block
            (16, 1536, 384, 64),
        ]  // the last one splits over the pool
        var checked = 0
        for path in [FLINT_KERNEL_SCALAR] + Self.paths where flint_kernel_supported(path) != 0 {
            for (m, n, k, group) in shapes {
                let a = (0..<(m * k)).map { _ in generator.int8() }
                var w = (0..<(n * k)).map { _ in generator.int8() }
                for index in stride(from: 0, to: w.count, by: 5) { w[index] = index % 2 == 0 ? 127 : -127 }
                let groups = group == 0 ? 1 : k / group
                let aScales = (0..<(m * groups)).map { _ in Float(generator.next() % 1000 + 1) / 50_000 }
                let wScales = (0..<n).map { _ in Float(generator.next() % 1000 + 1) / 90_000 }
                let bias = (0..<n).map { _ in Float(Int(generator.next() % 200) - 100) / 100 }
                // The exact value (in Double) and the size of its terms (Σ |a·w| × scales: a path may add a group's
                // partial sums apart, so its products, not its total, bound the rounding of any summation order).
                let size = group == 0 ? k : group
                var exact = [Double](repeating: 0, count: m * n), magnitude = exact
                for i in 0..<m {
                    for j in 0..<n {
                        for g in 0..<groups {
                            var sum = 0, absolute = 0
                            for kk in (g * size)..<((g + 1) * size) {
                                sum += Int(a[i * k + kk]) * Int(w[j * k + kk])
                                absolute += abs(Int(a[i * k + kk]) * Int(w[j * k + kk]))
                            }
                            let scale = Double(aScales[i * groups + g]) * Double(wScales[j])
                            exact[i * n + j] += Double(sum) * scale
                            magnitude[i * n + j] += Double(absolute) * scale
                        }
                        exact[i * n + j] += Double(bias[j])
                        magnitude[i * n + j] += abs(Double(bias[j]))
                    }
                }
                func close(_ got: [Float]) -> Bool {
                    (0..<(m * n)).allSatisfy { abs(Double(got[$0]) - exact[$0]) <= magnitude[$0] * 2e-6 + 1e-7 }
                }
                var packed = [Int8](repeating: 0, count: n * k)
                flint_pack_s8(Int32(n), Int32(k), w, &packed)
                // With the group sums a caller keeps, and without (the path computes what it needs).
                let sums = Self.groupSums(n: n, k: k, group: group, packed: packed)
                for given in [true, false] {
                    var got = [Float](repeating: .nan, count: m * n)
                    flint_linear_s8_packed_path(
                        path, Int32(m), Int32(n), 0, Int32(n), Int32(k), Int32(group), a, aScales, packed, wScales,
                        bias,
                        given ? sums : nil, &got)
                    #expect(
                        close(got),
                        "\(String(cString: flint_kernel_name(path))) m=\(m) n=\(n) k=\(k) group=\(group) sums: \(given)"
                    )
                }
                // The threaded entry point (on the selected path) agrees too.
                var threaded = [Float](repeating: .nan, count: m * n)
                flint_linear_s8_packed(
                    Int32(m), Int32(n), Int32(k), Int32(group), a, aScales, packed, wScales, bias, nil, &threaded)
                #expect(close(threaded))
                checked += 1
            }
        }
        #expect(checked >= 2 * shapes.count, "the scalar and at least one SIMD packed path ran")
    }

    @Test func groupedLinearEqualsSumOfGroups() {
        // k = 128 in groups of 32: each group's sum is scaled by its own activation scale.
        let (m, n, k, group) = (3, 8, 128, 32)
        var generator = Generator(state: 5)
        let a = (0..<(m * k)).map { _ in generator.int8() }
        let w = (0..<(n * k)).map { _ in generator.int8() }
        let aScales = (0..<(m * k / group)).map { Float($0 + 1) / 64 }, wScales = (0..<n).map { Float($0 + 1) / 8 }
        var packed = [Int8](repeating: 0, count: n * k), out = [Float](repeating: 0, count: m * n)
        flint_pack_s8(Int32(n), Int32(k), w, &packed)
        flint_linear_s8_packed(Int32(m), Int32(n), Int32(k), Int32(group), a, aScales, packed, wScales, nil, nil, &out)
        for i in 0..<m {
            for j in 0..<n {
                var expected: Float = 0
                for g in 0..<(k / group) {
                    var sum: Int32 = 0
                    for kk in (g * group)..<((g + 1) * group) { sum += Int32(a[i * k + kk]) * Int32(w[j * k + kk]) }
                    expected += Float(sum) * (aScales[i * (k / group) + g] * wScales[j])
                }
                #expect(abs(out[i * n + j] - expected) <= abs(expected) * 1e-6)
            }
        }
        var q = [Int8](repeating: 0, count: 8), scales = [Float](repeating: 0, count: 2)
        flint_quantize_groups(1, 8, 4, [1, -2, 0.5, 0, 10, 5, -10, 2.5], &q, &scales)
        #expect(scales == [2.0 / 127, 10.0 / 127])
        #expect(q == [64, -127, 32, 0, 127, 64, -127, 32])
    }

    /// Attention against a plain double-precision definition, with sequence lengths and head sizes that leave
    /// every tail of the register-blocked loops (rows not a multiple of 4, keys and dimensions not of 16).
    @Test func attentionMatchesThePlainDefinition() {
        var generator = Generator(state: 41)
        for (count, hidden, heads) in [(1, 16, 2), (5, 40, 2), (17, 64, 2), (37, 96, 3), (70, 384, 12), (100, 96, 2)] {
            let random = { (n: Int) in (0..<n).map { _ in Float(Int(generator.next() % 2001) - 1000) / 400 } }
            let q = random(count * hidden), k = random(count * hidden), v = random(count * hidden)
            var context = [Float](repeating: .nan, count: count * hidden)
            var scratch = [Float](
                repeating: 0, count: Int(flint_thread_count()) * (hidden / heads + 4) * ((count + 15) / 16 * 16))
            flint_attention(Int32(count), Int32(hidden), Int32(heads), q, k, v, &context, &scratch)
            let size = hidden / heads
            var worst = 0.0
            for head in 0..<heads {
                for i in 0..<count {
                    let logits = (0..<count).map { j in
                        (0..<size).reduce(0.0) {
                            $0 + Double(q[i * hidden + head * size + $1]) * Double(k[j * hidden + head * size + $1])
                        }
                            / Double(size).squareRoot()
                    }
                    let top = logits.max()!, weights = logits.map { Foundation.exp($0 - top) },
                        total = weights.reduce(0, +)
                    for e in 0..<size {
                        let expected = (0..<count).reduce(0.0) {
                            $0 + weights[$1] / total * Double(v[$1 * hidden + head * size + e])
                        }
                        worst = max(worst, abs(expected - Double(context[i * hidden + head * size + e])))
                    }
                }
            }
            #expect(worst < 1e-4, "count \(count), hidden \(hidden), heads \(heads): worst difference \(worst)")
        }
    }

    /// Smoothed quantization is quantization of the multiplied values, bit for bit (one definition, two entry points).
    @Test func smoothedQuantizationQuantizesTheMultipliedValues() {
        var generator = Generator(state: 7)
        for (rows, cols, group) in [(1, 8, 4), (3, 64, 64), (5, 384, 64), (7, 96, 32), (2, 40, 0)] {
            let x = (0..<(rows * cols)).map { _ in Float(Int(generator.next() % 4001) - 2000) / 300 }
            let m = (0..<cols).map { _ in Float(Int(generator.next() % 1000) + 1) / 250 }
            let groups = group > 0 ? cols / group : 1
            var q = [Int8](repeating: 0, count: rows * cols), scales = [Float](repeating: 0, count: rows * groups)
            var expectedQ = q, expectedScales = scales
            flint_quantize_groups_smoothed(Int32(rows), Int32(cols), Int32(group), x, m, &q, &scales)
            let multiplied = x.indices.map { x[$0] * m[$0 % cols] }
            flint_quantize_groups(Int32(rows), Int32(cols), Int32(group), multiplied, &expectedQ, &expectedScales)
            #expect(q == expectedQ && scales == expectedScales, "\(rows) × \(cols), group \(group)")
        }
    }

    @Test func quantizeRowsRoundsSymmetrically() {
        let x: [Float] = [0.5, -1.0, 0.25, 0, 0, 0, 0, 0]
        var q = [Int8](repeating: 0, count: 8)
        var scales = [Float](repeating: 0, count: 2)
        flint_quantize_rows(2, 4, x, &q, &scales)
        #expect(scales[0] == 1.0 / 127)
        #expect(Array(q[0..<4]) == [64, -127, 32, 0])
        #expect(scales[1] == 0 && Array(q[4..<8]) == [0, 0, 0, 0])
    }

    @Test func layerNormSoftmaxAndGelu() {
        var x: [Float] = [1, 2, 3, 4]
        flint_layer_norm(1, 4, &x, [1, 1, 1, 1], [0, 0, 0, 0], 1e-12)
        let expected: [Float] = [-1.3416408, -0.4472136, 0.4472136, 1.3416408]
        #expect(zip(x, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        var logits: [Float] = [1, 2, 3, 1000]
        flint_softmax(&logits, 4)
        #expect(abs(logits.reduce(0, +) - 1) < 1e-6 && logits[3] > 0.999)
        // GELU against erf in double precision, across the range activations take.
        let inputs = stride(from: -12.0, through: 12.0, by: 0.01).map { $0 }
        var values = inputs.map(Float.init)
        flint_gelu_erf(&values, Int32(values.count))
        let worst = zip(values, inputs).map { abs(Double($0) - 0.5 * $1 * (1 + erf($1 / 2.0.squareRoot()))) }.max() ?? 1
        #expect(worst < 2e-6, "worst GELU error \(worst)")
    }
}
