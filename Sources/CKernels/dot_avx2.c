// AVX2 int8 core: 32 bytes at a time with the sign-transfer trick (|a| as unsigned × sign(a)·w as signed, via
// maddubs), four weight rows per activation load, then a scalar tail for k % 32.
#include "flint_kernels.h"
#include "packed_blocking.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static inline int32_t horizontal_sum(__m256i v) {
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xB1));
    return _mm_cvtsi128_si32(sum);
}

__attribute__((target("avx2")))
static inline __m256i dot32(__m256i abs_a, __m256i a, __m256i w, __m256i ones) {
    // |a| * (w with a's sign): products of at most 127*127, pairs of at most 32258, never saturating.
    __m256i pairs = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(w, a));
    return _mm256_madd_epi16(pairs, ones);
}

__attribute__((target("avx2")))
static void one_row(const int8_t *row, int n, int k, const int8_t *w, int ldw, int32_t *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int whole = k & ~31;
    for (int j = 0; j < n; j++) {
        const int8_t *wj = w + (size_t)j * ldw;
        __m256i s = _mm256_setzero_si256();
        for (int kk = 0; kk < whole; kk += 32) {
            __m256i va = _mm256_loadu_si256((const __m256i *)(row + kk));
            s = _mm256_add_epi32(s, dot32(_mm256_abs_epi8(va), va, _mm256_loadu_si256((const __m256i *)(wj + kk)), ones));
        }
        int32_t r = horizontal_sum(s);
        for (int kk = whole; kk < k; kk++) r += (int32_t)row[kk] * wj[kk];
        out[j] = r;
    }
}

// Two activation rows against four weight rows per step: each weight load serves two rows, eight accumulators.
__attribute__((target("avx2")))
void flint_gemm_s8_i32_avx2(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int whole = k & ~31;
    int i = 0;
    for (; i + 2 <= m; i += 2) {
        const int8_t *r0 = a + (size_t)i * lda, *r1 = r0 + lda;
        int32_t *o0 = out + (size_t)i * n, *o1 = o0 + n;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *w0 = w + (size_t)j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s02 = s00, s03 = s00;
            __m256i s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int kk = 0; kk < whole; kk += 32) {
                __m256i a0 = _mm256_loadu_si256((const __m256i *)(r0 + kk)), a1 = _mm256_loadu_si256((const __m256i *)(r1 + kk));
                __m256i b0 = _mm256_abs_epi8(a0), b1 = _mm256_abs_epi8(a1);
                __m256i x = _mm256_loadu_si256((const __m256i *)(w0 + kk));
                s00 = _mm256_add_epi32(s00, dot32(b0, a0, x, ones)); s10 = _mm256_add_epi32(s10, dot32(b1, a1, x, ones));
                x = _mm256_loadu_si256((const __m256i *)(w1 + kk));
                s01 = _mm256_add_epi32(s01, dot32(b0, a0, x, ones)); s11 = _mm256_add_epi32(s11, dot32(b1, a1, x, ones));
                x = _mm256_loadu_si256((const __m256i *)(w2 + kk));
                s02 = _mm256_add_epi32(s02, dot32(b0, a0, x, ones)); s12 = _mm256_add_epi32(s12, dot32(b1, a1, x, ones));
                x = _mm256_loadu_si256((const __m256i *)(w3 + kk));
                s03 = _mm256_add_epi32(s03, dot32(b0, a0, x, ones)); s13 = _mm256_add_epi32(s13, dot32(b1, a1, x, ones));
            }
            int32_t t[8] = {horizontal_sum(s00), horizontal_sum(s01), horizontal_sum(s02), horizontal_sum(s03),
                            horizontal_sum(s10), horizontal_sum(s11), horizontal_sum(s12), horizontal_sum(s13)};
            for (int kk = whole; kk < k; kk++) {
                int32_t x0 = r0[kk], x1 = r1[kk];
                t[0] += x0 * w0[kk]; t[1] += x0 * w1[kk]; t[2] += x0 * w2[kk]; t[3] += x0 * w3[kk];
                t[4] += x1 * w0[kk]; t[5] += x1 * w1[kk]; t[6] += x1 * w2[kk]; t[7] += x1 * w3[kk];
            }
            for (int c = 0; c < 4; c++) { o0[j + c] = t[c]; o1[j + c] = t[4 + c]; }
        }
        if (j < n) {
            one_row(r0, n - j, k, w + (size_t)j * ldw, ldw, o0 + j);
            one_row(r1, n - j, k, w + (size_t)j * ldw, ldw, o1 + j);
        }
    }
    for (; i < m; i++) one_row(a + (size_t)i * lda, n, k, w, ldw, out + (size_t)i * n);
}
#endif

#if defined(__x86_64__)
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
    FLINT_PACKED_BLOCKS(m, n0, n1, 4, FLINT_TILE)
#undef FLINT_TILE
}
#endif
