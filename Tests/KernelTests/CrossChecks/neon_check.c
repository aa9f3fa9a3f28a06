// Cross-architecture check of the NEON packed int8 linear layer against the scalar reference, run under qemu-user by
// KernelTests (it builds this with aarch64-linux-gnu-gcc). Prints "ok <cases>" or the first mismatch.
#include "kernel_check.h"

void flint_linear_s8_packed_neon(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const float *w_scales, const float *bias, float *out);

int main(void) {
    if (!flint_kernel_supported(FLINT_KERNEL_NEON)) { printf("no dotprod\n"); return 2; }
    int cases = 0;
    const int shapes[][6] = {{1, 8, 4, 4, 0, 8}, {5, 24, 128, 64, 0, 24}, {4, 384, 384, 64, 0, 384}, {7, 64, 1536, 64, 0, 64},
                             {3, 16, 96, 96, 0, 16}, {6, 48, 256, 64, 16, 40}};
    for (int unit = 1; unit >= 0; unit--) {
        for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            if (check_packed(flint_linear_s8_packed_neon, shapes[s], unit, 0) < 0) return 1;
            cases++;
        }
    }
    printf("ok %d\n", cases);
    return 0;
}
