// The AVX-512 VNNI packed int8 linear layer against the scalar reference on a CPU without VNNI: KernelTests builds this with
// linear_avx512vnni.c compiled on SIMDe's portable intrinsics (-DFLINT_SIMDE) and runs it. Prints "ok <cases>" or
// the first mismatch. On a VNNI CPU KernelTests also runs the native build through the dispatcher.
#include "kernel_check.h"

void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       float *out);

int main(void) {
    int cases = 0;
    // Row tiles of 8, 4, 2 and 1, 8-output strips, several groups, a column range; -128 inputs too (the activation
    // offset is exact for every int8 value).
    const int shapes[][6] = {{1, 8, 4, 4, 0, 8}, {15, 24, 128, 64, 0, 24}, {8, 384, 384, 64, 0, 384}, {13, 64, 1536, 64, 0, 64},
                             {3, 16, 96, 96, 0, 16}, {70, 48, 256, 64, 16, 40}, {9, 32, 64, 32, 0, 32}};
    for (int unit = 1; unit >= 0; unit--) {
        for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            if (check_packed(flint_linear_s8_packed_avx512vnni, shapes[s], unit, 1) < 0) return 1;
            cases++;
        }
    }
    printf("ok %d\n", cases);
    return 0;
}
