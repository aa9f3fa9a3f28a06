// NEON int8 core for aarch64 (Lambda's Graviton): 16 bytes at a time with the dot-product instruction
// (signed × signed into int32, ARMv8.2 dotprod), four weight rows per activation load; scalar tail for k % 16.
#include "flint_kernels.h"

#if defined(__aarch64__)
// The dot-product extension for this file only (the dispatcher checks the CPU has it): clang takes it as a
// function attribute, GCC as a file-level pragma before <arm_neon.h>.
#if defined(__clang__)
#define FLINT_DOTPROD __attribute__((target("dotprod")))
#else
#pragma GCC target("arch=armv8.2-a+dotprod")
#define FLINT_DOTPROD
#endif
#include <arm_neon.h>

FLINT_DOTPROD
void flint_gemm_s8_i32_neon(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out) {
    const int whole = k & ~15;
    for (int i = 0; i < m; i++) {
        const int8_t *row = a + (size_t)i * lda;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *w0 = w + (size_t)j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
            int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
            for (int kk = 0; kk < whole; kk += 16) {
                int8x16_t va = vld1q_s8(row + kk);
                s0 = vdotq_s32(s0, va, vld1q_s8(w0 + kk));
                s1 = vdotq_s32(s1, va, vld1q_s8(w1 + kk));
                s2 = vdotq_s32(s2, va, vld1q_s8(w2 + kk));
                s3 = vdotq_s32(s3, va, vld1q_s8(w3 + kk));
            }
            int32_t r0 = vaddvq_s32(s0), r1 = vaddvq_s32(s1), r2 = vaddvq_s32(s2), r3 = vaddvq_s32(s3);
            for (int kk = whole; kk < k; kk++) {
                int32_t x = row[kk];
                r0 += x * w0[kk]; r1 += x * w1[kk]; r2 += x * w2[kk]; r3 += x * w3[kk];
            }
            out[i * n + j] = r0; out[i * n + j + 1] = r1; out[i * n + j + 2] = r2; out[i * n + j + 3] = r3;
        }
        for (; j < n; j++) {
            const int8_t *wj = w + (size_t)j * ldw;
            int32x4_t s = vdupq_n_s32(0);
            for (int kk = 0; kk < whole; kk += 16) s = vdotq_s32(s, vld1q_s8(row + kk), vld1q_s8(wj + kk));
            int32_t r = vaddvq_s32(s);
            for (int kk = whole; kk < k; kk++) r += (int32_t)row[kk] * wj[kk];
            out[i * n + j] = r;
        }
    }
}
#endif
