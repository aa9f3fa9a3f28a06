// Scalar reference for the int8 matrix core: the readable definition every SIMD path must match exactly.
#include "flint_kernels.h"

void flint_gemm_s8_i32_generic(int m, int n, int k, const int8_t *a, int lda, const int8_t *w, int ldw, int32_t *out) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            int32_t sum = 0;
            for (int kk = 0; kk < k; kk++) sum += (int32_t)a[(size_t)i * lda + kk] * (int32_t)w[(size_t)j * ldw + kk];
            out[i * n + j] = sum;
        }
    }
}
