// What the cross checks share: an instruction-set path's packed int8 linear layer against the scalar reference, for paths this
// machine cannot run natively (NEON under qemu-user, AVX-512 VNNI on SIMDe). Each check's main() calls these and
// prints "ok <cases>"; a mismatch prints its shape and returns non-zero.
#ifndef FLINT_KERNEL_CHECK_H
#define FLINT_KERNEL_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "flint_kernels.h"

typedef void (*packed_kernel)(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                              const int8_t *wp, const float *w_scales, const float *bias, float *out);
void flint_linear_s8_packed_generic(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                    const int8_t *wp, const float *w_scales, const float *bias, float *out);

static unsigned long long check_state = 7;
static int8_t check_int8(void) {
    check_state = check_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int8_t)((int)((check_state >> 33) % 255) - 127);
}

/// The packed layer on one shape {m, n, k, group, n0, n1}, over outputs [n0, n1). With `unit` scales and no bias
/// both sides add the same integer group sums in the same order, so the floats must be equal exactly (an integer
/// sum off by one shows); with real scales, within what float summation in any order may round. `extremes` puts -128 among the inputs.
/// Returns 1, or -1 after printing the mismatch.
static int check_packed(packed_kernel kernel, const int shape[6], int unit, int extremes) {
    int m = shape[0], n = shape[1], k = shape[2], group = shape[3], n0 = shape[4], n1 = shape[5], groups = k / group;
    int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k), *wp = malloc((size_t)n * k);
    float *as = malloc(sizeof(float) * m * groups), *ws = malloc(sizeof(float) * n), *bias = malloc(sizeof(float) * n);
    float *expected = malloc(sizeof(float) * m * n), *got = malloc(sizeof(float) * m * n);
    for (int i = 0; i < m * k; i++) a[i] = extremes && i % 11 == 0 ? -128 : check_int8();
    for (int i = 0; i < n * k; i++) w[i] = extremes && i % 13 == 0 ? (i % 2 ? -128 : 127) : check_int8();
    for (int i = 0; i < m * groups; i++) as[i] = unit ? 1.0f : (float)(check_int8() + 128) / 9000.0f;
    for (int i = 0; i < n; i++) {
        ws[i] = unit ? 1.0f : (float)(check_int8() + 128) / 7000.0f;
        bias[i] = unit ? 0.0f : (float)check_int8() / 100.0f;
    }
    for (int i = 0; i < m * n; i++) expected[i] = got[i] = -1.0f;
    flint_pack_s8(n, k, w, wp);
    flint_linear_s8_packed_generic(m, n, n0, n1, k, group, a, as, wp, ws, bias, expected);
    kernel(m, n, n0, n1, k, group, a, as, wp, ws, bias, got);
    int result = 1;
    for (int i = 0; i < m * n && result > 0; i++) {
        // The bound follows the size of the terms, not of the (possibly cancelling) result: Σ |a·w| × scales + |bias|
        // bounds the rounding of any order of float summation (a path may add a group's partial sums apart).
        const int row = i / n, column = i % n;
        double size = fabs((double)bias[column]);
        for (int g = 0; g < groups && !unit; g++) {
            long magnitude = 0;
            for (int kk = g * group; kk < (g + 1) * group; kk++) magnitude += labs((long)a[(size_t)row * k + kk] * w[(size_t)column * k + kk]);
            size += (double)magnitude * as[(size_t)row * groups + g] * ws[column];
        }
        float bound = unit ? 0.0f : (float)(size * 4e-6);
        if (fabsf(got[i] - expected[i]) > bound) {
            printf("packed mismatch m=%d n=%d k=%d group=%d unit=%d at %d: %.9g vs %.9g\n", m, n, k, group, unit, i, got[i],
                   expected[i]);
            result = -1;
        }
    }
    free(a); free(w); free(wp); free(as); free(ws); free(bias); free(expected); free(got);
    return result;
}

#endif
