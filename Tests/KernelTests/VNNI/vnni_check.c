// The AVX-512 VNNI kernels against the scalar reference on a CPU without VNNI: KernelTests builds this with
// dot_avx512vnni.c compiled on SIMDe's portable intrinsics (-DFLINT_SIMDE) and runs it. Prints "ok <cases>" or
// the first mismatch. On a VNNI CPU KernelTests also runs the native build through the dispatcher.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "flint_kernels.h"

void flint_gemm_s8_i32_generic(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);
void flint_gemm_s8_i32_avx512vnni(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);
void flint_linear_s8_packed_generic(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                    const int8_t *wp, const float *w_scales, const float *bias, float *out);
void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       float *out);

static unsigned long long state = 11;
static int8_t next_int8(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int8_t)((int)((state >> 33) % 255) - 127);
}

int main(void) {
    int cases = 0;
    // Row-major core: integer sums, bit for bit, with the ±127 extremes and every tail of k % 64.
    const int sizes[][3] = {{1, 1, 1}, {1, 5, 31}, {3, 7, 33}, {2, 4, 64}, {5, 9, 65}, {1, 384, 384}, {4, 64, 1536}, {2, 3, 127}};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k);
        int32_t *expected = malloc(sizeof(int32_t) * m * n), *got = malloc(sizeof(int32_t) * m * n);
        for (int i = 0; i < m * k; i++) a[i] = next_int8();
        for (int i = 0; i < n * k; i++) w[i] = i % 7 == 0 ? (i % 2 ? -127 : 127) : next_int8();
        flint_gemm_s8_i32_generic(m, n, k, a, k, w, k, expected);
        flint_gemm_s8_i32_avx512vnni(m, n, k, a, k, w, k, got);
        for (int i = 0; i < m * n; i++) {
            if (got[i] != expected[i]) { printf("mismatch m=%d n=%d k=%d at %d: %d vs %d\n", m, n, k, i, got[i], expected[i]); return 1; }
        }
        cases++;
        free(a); free(w); free(expected); free(got);
    }
    // Packed layer. With unit scales and no bias both sides add the same integer group sums in the same order, so
    // the floats must be equal exactly (an integer sum off by one shows); with real scales, within float order.
    // Shapes cover R = 8, 4, 2, 1 row tiles, 8-output strips, several groups, a column range, and -128 inputs
    // (the activation offset is exact for every int8 value).
    const int packed_sizes[][6] = {{1, 8, 4, 4, 0, 8}, {15, 24, 128, 64, 0, 24}, {8, 384, 384, 64, 0, 384},
                                   {13, 64, 1536, 64, 0, 64}, {3, 16, 96, 96, 0, 16}, {70, 48, 256, 64, 16, 40},
                                   {9, 32, 64, 32, 0, 32}};
    for (int unit = 1; unit >= 0; unit--) {
        for (unsigned s = 0; s < sizeof packed_sizes / sizeof packed_sizes[0]; s++) {
            int m = packed_sizes[s][0], n = packed_sizes[s][1], k = packed_sizes[s][2], group = packed_sizes[s][3];
            int n0 = packed_sizes[s][4], n1 = packed_sizes[s][5], groups = k / group;
            int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k), *wp = malloc((size_t)n * k);
            float *as = malloc(sizeof(float) * m * groups), *ws = malloc(sizeof(float) * n), *bias = malloc(sizeof(float) * n);
            float *expected = malloc(sizeof(float) * m * n), *got = malloc(sizeof(float) * m * n);
            for (int i = 0; i < m * k; i++) a[i] = i % 11 == 0 ? -128 : next_int8();
            for (int i = 0; i < n * k; i++) w[i] = i % 13 == 0 ? (i % 2 ? -128 : 127) : next_int8();
            for (int i = 0; i < m * groups; i++) as[i] = unit ? 1.0f : (float)(next_int8() + 128) / 9000.0f;
            for (int i = 0; i < n; i++) {
                ws[i] = unit ? 1.0f : (float)(next_int8() + 128) / 7000.0f;
                bias[i] = unit ? 0.0f : (float)next_int8() / 100.0f;
            }
            for (int i = 0; i < m * n; i++) expected[i] = got[i] = -1.0f;
            flint_pack_s8(n, k, w, wp);
            flint_linear_s8_packed_generic(m, n, n0, n1, k, group, a, as, wp, ws, bias, expected);
            flint_linear_s8_packed_avx512vnni(m, n, n0, n1, k, group, a, as, wp, ws, bias, got);
            for (int i = 0; i < m * n; i++) {
                // Float summation order may differ with real scales, so the bound follows the size of the terms.
                float bound = unit ? 0.0f : (fabsf(expected[i]) + fabsf(bias[i % n]) + 1e-2f) * 1e-5f;
                if (fabsf(got[i] - expected[i]) > bound) {
                    printf("packed mismatch m=%d n=%d k=%d group=%d unit=%d at %d: %.9g vs %.9g\n", m, n, k, group, unit, i,
                           got[i], expected[i]);
                    return 1;
                }
            }
            cases++;
            free(a); free(w); free(wp); free(as); free(ws); free(bias); free(expected); free(got);
        }
    }
    printf("ok %d\n", cases);
    return 0;
}
