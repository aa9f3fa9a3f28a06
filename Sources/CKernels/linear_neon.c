// NEON packed int8 linear tiles for aarch64 (Lambda's Graviton), on the dot-product instruction (signed × signed
// into int32, ARMv8.2 dotprod).
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
