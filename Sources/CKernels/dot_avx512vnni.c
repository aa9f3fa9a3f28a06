// AVX-512 VNNI int8 core: 64 bytes at a time with vpdpbusd (unsigned × signed, accumulating in int32), using
// the same sign transfer as AVX2 (|a| × sign(a)·w); scalar tail for k % 64.
#include "flint_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vnni")))
void flint_gemm_s8_i32_avx512vnni(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out) {
    const int whole = k & ~63;
    for (int i = 0; i < m; i++) {
        const int8_t *row = a + (size_t)i * lda;
        for (int j = 0; j < n; j++) {
            const int8_t *wj = w + (size_t)j * ldw;
            __m512i sum = _mm512_setzero_si512();
            for (int kk = 0; kk < whole; kk += 64) {
                __m512i va = _mm512_loadu_si512((const void *)(row + kk));
                __m512i vw = _mm512_loadu_si512((const void *)(wj + kk));
                __mmask64 negative = _mm512_movepi8_mask(va);
                __m512i signed_w = _mm512_mask_sub_epi8(vw, negative, _mm512_setzero_si512(), vw);
                sum = _mm512_dpbusd_epi32(sum, _mm512_abs_epi8(va), signed_w);
            }
            int32_t r = _mm512_reduce_add_epi32(sum);
            for (int kk = whole; kk < k; kk++) r += (int32_t)row[kk] * wj[kk];
            out[i * n + j] = r;
        }
    }
}
#endif
