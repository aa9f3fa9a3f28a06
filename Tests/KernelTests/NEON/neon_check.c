// Cross-architecture check of the NEON int8 core against the scalar reference, run under qemu-user by
// KernelTests (it builds this with aarch64-linux-gnu-gcc). Prints "ok <cases>" or the first mismatch.
#include <stdio.h>
#include <stdlib.h>
#include "flint_kernels.h"

void flint_gemm_s8_i32_generic(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);
void flint_gemm_s8_i32_neon(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out);

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
    printf("ok %d\n", cases);
    return 0;
}
