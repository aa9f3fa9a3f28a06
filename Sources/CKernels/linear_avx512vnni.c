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

// Cache blocking as in the AVX2 kernel (packed_blocking.h), with row tiles of up to 8.
FLINT_VNNI_TARGET
void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       float *out) {
    const int groups = k / group;
#define FLINT_TILE(R, C, i, j) \
    vnni_tile(R, C, n, k, group, a + (size_t)(i) * k, a_scales + (size_t)(i) * groups, wp, w_scales, bias, out + (size_t)(i) * n, j)
    FLINT_PACKED_BLOCKS(m, n0, n1, 8, FLINT_TILE)
#undef FLINT_TILE
}
#endif
