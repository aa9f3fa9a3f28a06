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

#if defined(__aarch64__)
// Packed layout (see flint_pack_s8): 16 bytes are 4 inputs of 4 output rows, so `sdot` against 4 broadcast
// activation bytes gives each lane one output's partial sum. Four activation rows × one block of 8 outputs.
FLINT_DOTPROD
static inline void packed_tile_neon(int R, int n, int k, int group, const int8_t *a, const float *a_scales, const int8_t *wp,
                                    const float *w_scales, const float *bias, float *out, int j) {
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    const int8_t *block = wp + (size_t)(j / 8) * quads * 32;
    float32x4_t total[4][2];
    for (int r = 0; r < R; r++) { total[r][0] = vdupq_n_f32(0); total[r][1] = vdupq_n_f32(0); }
    for (int g = 0; g < groups; g++) {
        int32x4_t sum[4][2];
        for (int r = 0; r < R; r++) { sum[r][0] = vdupq_n_s32(0); sum[r][1] = vdupq_n_s32(0); }
        for (int q = g * group_quads; q < (g + 1) * group_quads; q++) {
            const int8x16_t w0 = vld1q_s8(block + (size_t)q * 32), w1 = vld1q_s8(block + (size_t)q * 32 + 16);
            for (int r = 0; r < R; r++) {
                int32_t four;
                __builtin_memcpy(&four, a + (size_t)r * k + q * 4, 4);
                const int8x16_t x = vreinterpretq_s8_s32(vdupq_n_s32(four));
                sum[r][0] = vdotq_s32(sum[r][0], w0, x);
                sum[r][1] = vdotq_s32(sum[r][1], w1, x);
            }
        }
        for (int r = 0; r < R; r++) {
            const float scale = a_scales[(size_t)r * groups + g];
            total[r][0] = vfmaq_n_f32(total[r][0], vcvtq_f32_s32(sum[r][0]), scale);
            total[r][1] = vfmaq_n_f32(total[r][1], vcvtq_f32_s32(sum[r][1]), scale);
        }
    }
    for (int c = 0; c < 2; c++) {
        const float32x4_t ws = vld1q_f32(w_scales + j + c * 4);
        const float32x4_t b = bias ? vld1q_f32(bias + j + c * 4) : vdupq_n_f32(0);
        for (int r = 0; r < R; r++) vst1q_f32(out + (size_t)r * n + j + c * 4, vfmaq_f32(b, total[r][c], ws));
    }
}

FLINT_DOTPROD
void flint_linear_s8_packed_neon(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const float *w_scales, const float *bias, float *out) {
    const int groups = k / group;
    for (int j = n0; j < n1; j += 8) {
        int i = 0;
        for (; i + 4 <= m; i += 4) packed_tile_neon(4, n, k, group, a + (size_t)i * k, a_scales + (size_t)i * groups, wp, w_scales, bias, out + (size_t)i * n, j);
        for (; i < m; i++) packed_tile_neon(1, n, k, group, a + (size_t)i * k, a_scales + (size_t)i * groups, wp, w_scales, bias, out + (size_t)i * n, j);
    }
}
#endif
