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

void flint_weight_group_sums_generic(int n, int k, int group, const int8_t *wp, int32_t *sums) {
    if (group <= 0 || k % group != 0 || group % 4 != 0) group = k;
    const int quads = k / 4, groups = k / group, group_quads = group / 4;
    for (int b = 0; b < n / 8; b++) {
        for (int g = 0; g < groups; g++) {
            // One block's quads of one group: 8 rows × 4 bytes each, back to back (see flint_pack_s8).
            int32_t row[8] = {0};
            const int8_t *quad = wp + ((size_t)b * quads + (size_t)g * group_quads) * 32;
            for (int q = 0; q < group_quads; q++, quad += 32)
                for (int r = 0; r < 8; r++) row[r] += quad[r * 4] + quad[r * 4 + 1] + quad[r * 4 + 2] + quad[r * 4 + 3];
            for (int r = 0; r < 8; r++) sums[(size_t)g * n + b * 8 + r] = row[r];
        }
    }
}
