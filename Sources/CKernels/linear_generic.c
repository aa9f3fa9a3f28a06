// Scalar reference for the packed int8 linear layer, and the packing itself: the readable definition every SIMD
// path must match exactly (bit for bit on the integer sums).
#include "flint_kernels.h"

void flint_pack_s8(int n, int k, const int8_t *w, int8_t *packed) {
    const int quads = k / 4;
    for (int row = 0; row < n; row++) {
        for (int q = 0; q < quads; q++) {
            for (int t = 0; t < 4; t++) {
                packed[(((size_t)(row / 8) * quads + q) * 8 + row % 8) * 4 + t] = w[(size_t)row * k + q * 4 + t];
            }
        }
    }
}

void flint_unpack_s8(int n, int k, const int8_t *packed, int8_t *w) {
    const int quads = k / 4;
    for (int row = 0; row < n; row++) {
        for (int q = 0; q < quads; q++) {
            for (int t = 0; t < 4; t++) {
                w[(size_t)row * k + q * 4 + t] = packed[(((size_t)(row / 8) * quads + q) * 8 + row % 8) * 4 + t];
            }
        }
    }
}

// The packed linear layer's definition: per output, the int32 sum of each activation group, scaled by the group's
// activation scale and accumulated in float, then the weight row's scale and the bias.
void flint_linear_s8_packed_generic(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                    const int8_t *wp, const float *w_scales, const float *bias, float *out) {
    const int quads = k / 4, groups = k / group;
    for (int i = 0; i < m; i++) {
        for (int j = n0; j < n1; j++) {
            const int8_t *block = wp + (size_t)(j / 8) * quads * 32 + (j % 8) * 4;
            float total = 0;
            for (int g = 0; g < groups; g++) {
                int32_t sum = 0;
                for (int q = g * group / 4; q < (g + 1) * group / 4; q++) {
                    for (int t = 0; t < 4; t++) sum += (int32_t)a[(size_t)i * k + q * 4 + t] * block[(size_t)q * 32 + t];
                }
                total += (float)sum * a_scales[(size_t)i * groups + g];
            }
            out[(size_t)i * n + j] = total * w_scales[j] + (bias ? bias[j] : 0.0f);
        }
    }
}
