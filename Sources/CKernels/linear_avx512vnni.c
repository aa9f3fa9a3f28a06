// AVX-512 VNNI packed int8 linear tiles. vpdpbusd multiplies unsigned by signed bytes and adds each lane's four products
// straight into int32 (no int16 stage, so nothing saturates).
//
// This file also builds on CPUs without VNNI, on SIMDe's portable intrinsics (FLINT_SIMDE defined), so that
// Tests/KernelTests/CrossChecks/vnni_check.c (run by VNNIUnderSIMDeTests) checks it against the scalar reference
// bit for bit on any x86-64 machine.
#include "flint_kernels.h"
#include "packed_blocking.h"

#if defined(__x86_64__)
#if defined(FLINT_SIMDE)
#if defined(__clang__)
// SIMDe 0.7 declares its own __m128bh where clang's SSE2 header already has one: name clang's apart.
#define __m128bh flint_clang_m128bh
#include <emmintrin.h>
#undef __m128bh
#endif
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define FLINT_VNNI_TARGET
// SIMDe 0.7 has no 512-bit int-to-float conversion: two 256-bit ones, exactly the same values.
static inline __m512 flint_cvtepi32_ps(__m512i x) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_cvtepi32_ps(_mm512_castsi512_si256(x))),
                              _mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(x, 1)), 1);
}
#define _mm512_cvtepi32_ps flint_cvtepi32_ps
// Nor the zero extension of eight dwords to qwords: each dword to its lane pair's even lane, zero to the odd one.
static inline __m512i flint_cvtepu32_epi64(__m256i x) {
    return _mm512_permutexvar_epi32(_mm512_set_epi32(8, 7, 8, 6, 8, 5, 8, 4, 8, 3, 8, 2, 8, 1, 8, 0),
                                    _mm512_inserti64x4(_mm512_castsi256_si512(x), _mm256_setzero_si256(), 1));
}
#define _mm512_cvtepu32_epi64 flint_cvtepu32_epi64
#else
#include <immintrin.h>
#define FLINT_VNNI_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#endif

// Packed layer: the AVX2 kernel's layout and tiles (a 32-byte load is 4 inputs of 8 outputs, 4 activation bytes
// broadcast), on 256-bit vpdpbusd, one instruction per 32 multiply-adds where AVX2 needs four. AVX-512 has no byte
// sign transfer, so activations are offset instead: x + 128 (a XOR of the sign bit) is unsigned, and the offset
// adds 128 × Σw to the sum; one vpdpbusd per weight load gives 128 × Σw, which each group's epilogue takes off every row's
// sums, so the int32 group sums equal the scalar reference's for any int8 input.
// Up to 8 rows per tile (AVX-512 has 32 vector registers): the correction costs one instruction per 2 × R.
__attribute__((always_inline)) FLINT_VNNI_TARGET
static inline void vnni_tile(const int R, const int C, int n, int k, int group, const int8_t *a, const float *a_scales,
                             const int8_t *wp, const float *w_scales, const float *bias, float *out, int j) {
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    const int8_t *blocks = wp + (size_t)(j / 8) * quads * 32;
    const __m256i offset = _mm256_set1_epi8((char)0x80);
    __m256 total[8][2];
    for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) total[r][c] = _mm256_setzero_ps();
    for (int g = 0; g < groups; g++) {
        __m256i sum[8][2], shift[2];
        for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) sum[r][c] = _mm256_setzero_si256();
        for (int c = 0; c < C; c++) shift[c] = _mm256_setzero_si256();
        for (int q = g * group_quads; q < (g + 1) * group_quads; q++) {
            __m256i w[2];
            for (int c = 0; c < C; c++) {
                w[c] = _mm256_loadu_si256((const __m256i *)(blocks + ((size_t)c * quads + q) * 32));
                shift[c] = _mm256_dpbusd_epi32(shift[c], offset, w[c]);
            }
            for (int r = 0; r < R; r++) {
                uint32_t four;
                __builtin_memcpy(&four, a + (size_t)r * k + q * 4, 4);
                const __m256i x = _mm256_set1_epi32((int32_t)(four ^ 0x80808080u));
                for (int c = 0; c < C; c++) sum[r][c] = _mm256_dpbusd_epi32(sum[r][c], x, w[c]);
            }
        }
        for (int r = 0; r < R; r++) {
            const __m256 scale = _mm256_set1_ps(a_scales[(size_t)r * groups + g]);
            for (int c = 0; c < C; c++)
                total[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(sum[r][c], shift[c])), scale, total[r][c]);
        }
    }
    for (int c = 0; c < C; c++) {
        const __m256 ws = _mm256_loadu_ps(w_scales + j + c * 8);
        const __m256 b = bias ? _mm256_loadu_ps(bias + j + c * 8) : _mm256_setzero_ps();
        for (int r = 0; r < R; r++) _mm256_storeu_ps(out + (size_t)r * n + j + c * 8, _mm256_fmadd_ps(total[r][c], ws, b));
    }
}

// The same tile on 512-bit vpdpbusd, for CPUs that run it at full rate (Zen 4 at half the ymm rate per
// instruction but twice the width, Zen 5 and Intel's server cores at full width: measure with KernelPeak). One
// 64-byte load holds two consecutive quads of a block (quad q, then quad q + 1, of the same 8 rows); a permute
// interleaves them per row (lane 2i: quad q of row i, lane 2i + 1: quad q + 1), so one 8-byte activation broadcast
// (quads q and q + 1 of that row) lines up with it and every lane pair sums one output: the even quads of each
// group in one lane, the odd ones in the other. Each half is an exact integer (at most 32 × 128 × 127, far below
// 2^24), scaled and accumulated in float on its own, and the pair is added once at the end: adding the halves in
// int32 every group cost two more instructions per accumulator and a sixth of the speed (KernelPeak: 320 against
// 360 G multiply-adds/s on Zen 5), for a float summation order that differs from the scalar reference's only in
// rounding. Needs an even number of quads per group, and activations already offset (x ^ 0x80: see below).
__attribute__((always_inline)) FLINT_VNNI_TARGET
static inline void vnni_tile_512(const int R, const int C, int n, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const int32_t *sums, int stride, const float *w_scales, const float *bias,
                                 float *out, int j) {
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    const int8_t *blocks = wp + (size_t)(j / 8) * quads * 32;
    const __m512i interleave = _mm512_set_epi32(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
    __m512 total[8][2];
    for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) total[r][c] = _mm512_setzero_ps();
    for (int g = 0; g < groups; g++) {
        // Each sum starts at the group's -128 × Σw (in the even lane of each pair, zero in the odd one), so that
        // what the offset activations add makes it exact.
        __m512i sum[8][2];
        for (int c = 0; c < C; c++) {
            const __m256i eight = _mm256_loadu_si256((const __m256i *)(sums + (size_t)g * stride + c * 8));
            const __m512i start = _mm512_cvtepu32_epi64(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(eight, 7)));
            for (int r = 0; r < R; r++) sum[r][c] = start;
        }
        for (int q = g * group_quads; q < (g + 1) * group_quads; q += 2) {
            __m512i w[2];
            for (int c = 0; c < C; c++)
                w[c] = _mm512_permutexvar_epi32(interleave, _mm512_loadu_si512((const void *)(blocks + ((size_t)c * quads + q) * 32)));
            for (int r = 0; r < R; r++) {
                // Activations arrive offset already (flipped once per block), so this is a broadcast load.
                long long eight;
                __builtin_memcpy(&eight, a + (size_t)r * k + q * 4, 8);
                const __m512i x = _mm512_set1_epi64(eight);
                for (int c = 0; c < C; c++) sum[r][c] = _mm512_dpbusd_epi32(sum[r][c], x, w[c]);
            }
        }
        for (int r = 0; r < R; r++) {
            const __m512 scale = _mm512_set1_ps(a_scales[(size_t)r * groups + g]);
            for (int c = 0; c < C; c++) {
                total[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][c]), scale, total[r][c]);
            }
        }
    }
    for (int c = 0; c < C; c++) {
        const __m256 ws = _mm256_loadu_ps(w_scales + j + c * 8);
        const __m256 b = bias ? _mm256_loadu_ps(bias + j + c * 8) : _mm256_setzero_ps();
        for (int r = 0; r < R; r++) {
            // The even lanes: each output once.
            const __m512 pairs = _mm512_add_ps(total[r][c], _mm512_shuffle_ps(total[r][c], total[r][c], 0xB1));
            const __m256 row = _mm256_castsi256_ps(_mm512_cvtepi64_epi32(_mm512_castps_si512(pairs)));
            _mm256_storeu_ps(out + (size_t)r * n + j + c * 8, _mm256_fmadd_ps(row, ws, b));
        }
    }
}

// Σw of every group for the C blocks of 8 outputs from output j, as flint_weight_group_sums lays them out but
// `stride` 16: what the 512-bit tile needs when the caller has no group sums to give.
FLINT_VNNI_TARGET
static void vnni_strip_sums(const int C, int k, int group, const int8_t *wp, int j, int32_t *sums) {
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    const int8_t *blocks = wp + (size_t)(j / 8) * quads * 32;
    const __m512i ones = _mm512_set1_epi8(1);
    for (int g = 0; g < groups; g++) {
        for (int c = 0; c < C; c++) {
            // A pair of quads in lanes 0-7 and 8-15: the halves add up to each row's sum.
            __m512i total = _mm512_setzero_si512();
            for (int q = g * group_quads; q < (g + 1) * group_quads; q += 2)
                total = _mm512_dpbusd_epi32(total, ones, _mm512_loadu_si512((const void *)(blocks + ((size_t)c * quads + q) * 32)));
            _mm256_storeu_si256((__m256i *)(sums + g * 16 + c * 8),
                                _mm256_add_epi32(_mm512_castsi512_si256(total), _mm512_extracti64x4_epi64(total, 1)));
        }
    }
}

// flint_weight_group_sums where whole pairs of quads make a group (else 0, and the caller sums the generic way):
// vpdpbusd of ones against a pair of quads leaves each row's sum split over lanes r and r + 8.
FLINT_VNNI_TARGET
int flint_weight_group_sums_avx512vnni(int n, int k, int group, const int8_t *wp, int32_t *sums) {
    if (group <= 0 || k % group != 0 || group % 4 != 0) group = k;
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    if (group_quads % 2 != 0) return 0;
    const __m512i ones = _mm512_set1_epi8(1);
    for (int b = 0; b < n / 8; b++) {
        const int8_t *block = wp + (size_t)b * quads * 32;
        for (int g = 0; g < groups; g++) {
            __m512i one = _mm512_setzero_si512(), two = _mm512_setzero_si512();
            int q = g * group_quads;
            for (; q + 4 <= (g + 1) * group_quads; q += 4) {
                one = _mm512_dpbusd_epi32(one, ones, _mm512_loadu_si512((const void *)(block + (size_t)q * 32)));
                two = _mm512_dpbusd_epi32(two, ones, _mm512_loadu_si512((const void *)(block + (size_t)(q + 2) * 32)));
            }
            if (q < (g + 1) * group_quads) one = _mm512_dpbusd_epi32(one, ones, _mm512_loadu_si512((const void *)(block + (size_t)q * 32)));
            const __m512i both = _mm512_add_epi32(one, two);
            _mm256_storeu_si256((__m256i *)(sums + (size_t)g * n + b * 8),
                                _mm256_add_epi32(_mm512_castsi512_si256(both), _mm512_extracti64x4_epi64(both, 1)));
        }
    }
    return 1;
}

// Cache blocking as in the AVX2 kernel (packed_blocking.h), with row tiles of up to 8.
FLINT_VNNI_TARGET
void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       const int32_t *group_sums, float *out) {
    const int groups = k / group, quads = k / 4;
    // The 512-bit tile reads activations already offset: each block of up to 256 rows is flipped once into this
    // buffer (at most 384 KB, on the stack: no allocation, and it stays in L2 like the block it copies) instead of
    // every broadcast doing it again for every strip of outputs; a block that large also reads each layer's weights
    // once per 256 rows rather than per 64 (a 256-token pass 19.9 -> 18.7 ms). Every thread that runs kernels has
    // a default-sized (8 MB) stack.
    enum { FLIPPED_BYTES = 256 * 1536 };
    if ((group / 4) % 2 == 0 && k <= FLIPPED_BYTES) {
        int8_t flipped[FLIPPED_BYTES] __attribute__((aligned(64)));
        int32_t strip_sums[16 * groups];
        const int block = FLIPPED_BYTES / k < 256 ? FLIPPED_BYTES / k : 256;
        for (int first = 0; first < m; first += block) {
            const int rows = m - first < block ? m - first : block;
            const int8_t *source = a + (size_t)first * k;
            const size_t bytes = (size_t)rows * k;
            size_t b = 0;
            for (; b + 64 <= bytes; b += 64) {
                _mm512_store_si512((void *)(flipped + b),
                                   _mm512_xor_si512(_mm512_loadu_si512((const void *)(source + b)), _mm512_set1_epi8((char)0x80)));
            }
            for (; b < bytes; b++) flipped[b] = (int8_t)(source[b] ^ 0x80);
#define FLINT_TILE(R, C, i, j) \
    vnni_tile_512(R, C, n, k, group, flipped + (size_t)(i) * k, a_scales + (size_t)(first + (i)) * groups, wp, sums, \
                  stride, w_scales, bias, out + (size_t)(first + (i)) * n, j)
            // Row tiles of 8 while 16 rows or more are left, then the rest in one or two tiles of nearly equal
            // height (12 rows: 6 + 6, not 8 + 4): a tile of fewer than six rows has too few independent sums to
            // cover vpdpbusd's latency.
#define FLINT_ROW_TILES(C)                                                                          \
    for (int i = 0; i < rows;) {                                                                    \
        const int left = rows - i, R = left >= 16 ? 8 : left > 8 ? (left + 1) / 2 : left;           \
        switch (R) {                                                                                \
        case 8: FLINT_TILE(8, C, i, j); break;                                                      \
        case 7: FLINT_TILE(7, C, i, j); break;                                                      \
        case 6: FLINT_TILE(6, C, i, j); break;                                                      \
        case 5: FLINT_TILE(5, C, i, j); break;                                                      \
        case 4: FLINT_TILE(4, C, i, j); break;                                                      \
        case 3: FLINT_TILE(3, C, i, j); break;                                                      \
        case 2: FLINT_TILE(2, C, i, j); break;                                                      \
        default: FLINT_TILE(1, C, i, j); break;                                                     \
        }                                                                                           \
        i += R;                                                                                     \
    }
            for (int j = n0; j < n1; j += 16) {
                const int C = n1 - j >= 16 ? 2 : 1;
                // The next strip's weights into L2 while this one's tiles run: in a forward pass the layer's weights
                // come from L3 (MiniLM's 10.6 MB do not stay in L2), and the first tile of each strip would wait. Only
                // for blocks of 32 rows or more: with fewer, a strip's tiles end before the prefetches pay off, and
                // they cost more than they save (12 tokens: 0.49 -> 0.54 ms a pass; 46: 2.32 -> 2.10 ms).
                if (rows >= 32 && j + 16 < n1) {
                    const char *next = (const char *)(wp + (size_t)((j + 16) / 8) * quads * 32);
                    const size_t next_bytes = (size_t)(n1 - j - 16 >= 16 ? 2 : 1) * quads * 32;
                    for (size_t line = 0; line < next_bytes; line += 64) _mm_prefetch(next + line, _MM_HINT_T1);
                }
                const int32_t *sums = group_sums ? group_sums + j : strip_sums;
                const int stride = group_sums ? n : 16;
                if (!group_sums) vnni_strip_sums(C, k, group, wp, j, strip_sums);
                if (C == 2) {
                    FLINT_ROW_TILES(2)
                } else {
                    FLINT_ROW_TILES(1)
                }
            }
#undef FLINT_ROW_TILES
#undef FLINT_TILE
        }
        return;
    }
#define FLINT_TILE(R, C, i, j) \
    vnni_tile(R, C, n, k, group, a + (size_t)(i) * k, a_scales + (size_t)(i) * groups, wp, w_scales, bias, out + (size_t)(i) * n, j)
    FLINT_PACKED_BLOCKS(m, n0, n1, 8, 64, FLINT_TILE)
#undef FLINT_TILE
}
#endif
