// Cross-architecture check of the NEON int8 core against the scalar reference, run under qemu-user by
// KernelTests (it builds this with aarch64-linux-gnu-gcc). Prints "ok <cases>" or the first mismatch.
#include <stdio.h>
#include <stdlib.h>
#include "flint_kernels.h"

void flint_gemm_s8_i32_generic(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);
void flint_gemm_s8_i32_neon(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);
#include <math.h>

static unsigned long long state = 7;
static int8_t next_int8(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int8_t)((int)((state >> 33) % 255) - 127);
}

int main(void) {
    if (!flint_kernel_supported(FLINT_KERNEL_NEON)) { printf("no dotprod\n"); return 2; }
    const int sizes[][3] = {{1, 1, 1}, {1, 5, 31}, {3, 7, 33}, {2, 4, 64}, {5, 9, 65}, {1, 384, 384}, {4, 64, 1536}, {2, 3, 127}};
    int cases = 0;
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
        int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k);
        int32_t *expected = malloc(sizeof(int32_t) * m * n), *got = malloc(sizeof(int32_t) * m * n);
        for (int i = 0; i < m * k; i++) a[i] = next_int8();
        for (int i = 0; i < n * k; i++) w[i] = i % 7 == 0 ? (i % 2 ? -127 : 127) : next_int8();
        flint_gemm_s8_i32_generic(m, n, k, a, k, w, k, expected);
        flint_gemm_s8_i32_neon(m, n, k, a, k, w, k, got);
        for (int i = 0; i < m * n; i++) {
            if (got[i] != expected[i]) { printf("mismatch m=%d n=%d k=%d at %d: %d vs %d\n", m, n, k, i, got[i], expected[i]); return 1; }
        }
        cases++;
        free(a); free(w); free(expected); free(got);
    }
    // The packed linear layer: NEON against the scalar definition (same int32 group sums; float order differs).
    const int packed_sizes[][4] = {{1, 8, 4, 4}, {5, 24, 128, 64}, {4, 384, 384, 64}, {7, 64, 1536, 64}, {3, 16, 96, 96}};
    for (unsigned s = 0; s < sizeof packed_sizes / sizeof packed_sizes[0]; s++) {
        int m = packed_sizes[s][0], n = packed_sizes[s][1], k = packed_sizes[s][2], group = packed_sizes[s][3];
        int groups = k / group;
        int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k), *wp = malloc((size_t)n * k);
        float *as = malloc(sizeof(float) * m * groups), *ws = malloc(sizeof(float) * n), *bias = malloc(sizeof(float) * n);
        float *expected = malloc(sizeof(float) * m * n), *got = malloc(sizeof(float) * m * n);
        for (int i = 0; i < m * k; i++) a[i] = next_int8();
        for (int i = 0; i < n * k; i++) w[i] = next_int8();
        for (int i = 0; i < m * groups; i++) as[i] = (float)(next_int8() + 128) / 9000.0f;
        for (int i = 0; i < n; i++) { ws[i] = (float)(next_int8() + 128) / 7000.0f; bias[i] = (float)next_int8() / 100.0f; }
        flint_pack_s8(n, k, w, wp);
        flint_linear_s8_packed_path(FLINT_KERNEL_SCALAR, m, n, 0, n, k, group, a, as, wp, ws, bias, expected);
        flint_linear_s8_packed_path(FLINT_KERNEL_NEON, m, n, 0, n, k, group, a, as, wp, ws, bias, got);
        for (int i = 0; i < m * n; i++) {
            // Float summation order differs, so the bound follows the size of the terms, not of the (possibly
            // cancelling) result.
            float scale = fabsf(expected[i]) + fabsf(bias[i % n]) + 1e-2f;
            if (fabsf(got[i] - expected[i]) > scale * 1e-5f) {
                printf("packed mismatch m=%d n=%d k=%d at %d: %g vs %g\n", m, n, k, i, got[i], expected[i]);
                return 1;
            }
        }
        cases++;
        free(a); free(w); free(wp); free(as); free(ws); free(bias); free(expected); free(got);
    }
    printf("ok %d\n", cases);
    return 0;
}
