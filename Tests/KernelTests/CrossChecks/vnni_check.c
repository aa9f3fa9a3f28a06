// The AVX-512 VNNI packed int8 linear layer against the scalar reference on a CPU without VNNI: KernelTests builds this with
// linear_avx512vnni.c compiled on SIMDe's portable intrinsics (-DFLINT_SIMDE) and runs it. Prints "ok <cases>" or
// the first mismatch. On a VNNI CPU KernelTests also runs the native build through the dispatcher.
#include "kernel_check.h"

void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       const int32_t *group_sums, float *out);
void flint_weight_group_sums_generic(int n, int k, int group, const int8_t *wp, int32_t *sums);
int flint_weight_group_sums_avx512vnni(int n, int k, int group, const int8_t *wp, int32_t *sums);

// The kernel as a caller without group sums calls it (it computes them per strip) ...
static void without_sums(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                         const int8_t *wp, const float *w_scales, const float *bias, float *out) {
    flint_linear_s8_packed_avx512vnni(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, NULL, out);
}

// ... and as the encoder calls it, with the sums it keeps per layer.
static void with_sums(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                      const int8_t *wp, const float *w_scales, const float *bias, float *out) {
    int32_t *sums = malloc(sizeof(int32_t) * (size_t)n * (k / group)), *reference = malloc(sizeof(int32_t) * (size_t)n * (k / group));
    flint_weight_group_sums_generic(n, k, group, wp, reference);
    // The VNNI sums where it makes them, checked against the generic ones.
    if (flint_weight_group_sums_avx512vnni(n, k, group, wp, sums)) {
        for (int i = 0; i < n * (k / group); i++) {
            if (sums[i] != reference[i]) { printf("group sum %d: %d vs %d\n", i, sums[i], reference[i]); exit(1); }
        }
    } else {
        for (int i = 0; i < n * (k / group); i++) sums[i] = reference[i];
    }
    free(reference);
    flint_linear_s8_packed_avx512vnni(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, sums, out);
    free(sums);
}

int main(void) {
    int cases = 0;
    // Row tiles of 8, 4, 2 and 1, 8-output strips, several groups, a column range; -128 inputs too (the activation
    // offset is exact for every int8 value).
    const int shapes[][6] = {{1, 8, 4, 4, 0, 8}, {15, 24, 128, 64, 0, 24}, {8, 384, 384, 64, 0, 384}, {13, 64, 1536, 64, 0, 64},
                             {3, 16, 96, 96, 0, 16}, {70, 48, 256, 64, 16, 40}, {9, 32, 64, 32, 0, 32}};
    for (int unit = 1; unit >= 0; unit--) {
        for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            if (check_packed(without_sums, shapes[s], unit, 1) < 0) return 1;
            if (check_packed(with_sums, shapes[s], unit, 1) < 0) return 1;
            cases += 2;
        }
    }
    printf("ok %d\n", cases);
    return 0;
}
