// AVX2 packed int8 linear tiles, with the sign-transfer trick (|a| as unsigned × sign(a)·w as signed, via maddubs:
// products of at most 127 × 127, pairs of at most 32258, never saturating).
#include "flint_kernels.h"
#include "packed_blocking.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Packed layout (see flint_pack_s8): a 32-byte load is 4 inputs of 8 output rows, so broadcasting 4 activation
// bytes and multiplying lane-wise gives each lane one output's partial sum. R activation rows × C blocks of 8
// outputs per tile; R and C are compile-time constants at every call, so the accumulators stay in registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void packed_tile(const int R, const int C, int n, int k, int group, const int8_t *a, const float *a_scales,
                               const int8_t *wp, const float *w_scales, const float *bias, float *out, int j) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    const int8_t *blocks = wp + (size_t)(j / 8) * quads * 32;
    __m256 total[4][2];
    for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) total[r][c] = _mm256_setzero_ps();
    for (int g = 0; g < groups; g++) {
        __m256i sum[4][2];
        for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) sum[r][c] = _mm256_setzero_si256();
        for (int q = g * group_quads; q < (g + 1) * group_quads; q++) {
            __m256i w[2];
            for (int c = 0; c < C; c++) w[c] = _mm256_loadu_si256((const __m256i *)(blocks + ((size_t)c * quads + q) * 32));
            for (int r = 0; r < R; r++) {
                int32_t four;
                __builtin_memcpy(&four, a + (size_t)r * k + q * 4, 4);
                const __m256i x = _mm256_set1_epi32(four), magnitude = _mm256_abs_epi8(x);
                for (int c = 0; c < C; c++) {
                    __m256i pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(w[c], x));
                    sum[r][c] = _mm256_add_epi32(sum[r][c], _mm256_madd_epi16(pairs, ones));
                }
            }
        }
        for (int r = 0; r < R; r++) {
            const __m256 scale = _mm256_set1_ps(a_scales[(size_t)r * groups + g]);
            for (int c = 0; c < C; c++) total[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[r][c]), scale, total[r][c]);
        }
    }
    for (int c = 0; c < C; c++) {
        const __m256 ws = _mm256_loadu_ps(w_scales + j + c * 8);
        const __m256 b = bias ? _mm256_loadu_ps(bias + j + c * 8) : _mm256_setzero_ps();
        for (int r = 0; r < R; r++) _mm256_storeu_ps(out + (size_t)r * n + j + c * 8, _mm256_fmadd_ps(total[r][c], ws, b));
    }
}

// Cache blocking in packed_blocking.h; row tiles of up to 4 (8 accumulators of AVX2's 16 vector registers).
__attribute__((target("avx2,fma")))
void flint_linear_s8_packed_avx2(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const float *w_scales, const float *bias, float *out) {
    const int groups = k / group;
#define FLINT_TILE(R, C, i, j) \
    packed_tile(R, C, n, k, group, a + (size_t)(i) * k, a_scales + (size_t)(i) * groups, wp, w_scales, bias, out + (size_t)(i) * n, j)
    FLINT_PACKED_BLOCKS(m, n0, n1, 4, 64, FLINT_TILE)
#undef FLINT_TILE
}
#endif
