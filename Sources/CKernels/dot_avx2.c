// AVX2 int8 core: 32 bytes at a time with the sign-transfer trick (|a| as unsigned × sign(a)·w as signed, via
// maddubs), four weight rows per activation load, then a scalar tail for k % 32.
#include "flint_kernels.h"

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
void flint_gemm_s8_i32_avx2(int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int whole = k & ~31;
    for (int i = 0; i < m; i++) {
        const int8_t *row = a + (size_t)i * k;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *w0 = w + (size_t)j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (int kk = 0; kk < whole; kk += 32) {
                __m256i va = _mm256_loadu_si256((const __m256i *)(row + kk));
                __m256i abs_a = _mm256_abs_epi8(va);
                s0 = _mm256_add_epi32(s0, dot32(abs_a, va, _mm256_loadu_si256((const __m256i *)(w0 + kk)), ones));
                s1 = _mm256_add_epi32(s1, dot32(abs_a, va, _mm256_loadu_si256((const __m256i *)(w1 + kk)), ones));
                s2 = _mm256_add_epi32(s2, dot32(abs_a, va, _mm256_loadu_si256((const __m256i *)(w2 + kk)), ones));
                s3 = _mm256_add_epi32(s3, dot32(abs_a, va, _mm256_loadu_si256((const __m256i *)(w3 + kk)), ones));
            }
            int32_t r0 = horizontal_sum(s0), r1 = horizontal_sum(s1), r2 = horizontal_sum(s2), r3 = horizontal_sum(s3);
            for (int kk = whole; kk < k; kk++) {
                int32_t x = row[kk];
                r0 += x * w0[kk]; r1 += x * w1[kk]; r2 += x * w2[kk]; r3 += x * w3[kk];
            }
            out[i * n + j] = r0; out[i * n + j + 1] = r1; out[i * n + j + 2] = r2; out[i * n + j + 3] = r3;
        }
        for (; j < n; j++) {
            const int8_t *wj = w + (size_t)j * k;
            __m256i s = _mm256_setzero_si256();
            for (int kk = 0; kk < whole; kk += 32) {
                __m256i va = _mm256_loadu_si256((const __m256i *)(row + kk));
                s = _mm256_add_epi32(s, dot32(_mm256_abs_epi8(va), va, _mm256_loadu_si256((const __m256i *)(wj + kk)), ones));
            }
            int32_t r = horizontal_sum(s);
            for (int kk = whole; kk < k; kk++) r += (int32_t)row[kk] * wj[kk];
            out[i * n + j] = r;
        }
    }
}
#endif
