#ifndef FLINT_KERNELS_TESTING_H
#define FLINT_KERNELS_TESTING_H

// Kernel entry points for tests and benchmarks only (defined in CKernels, kept out of its public header): one
// path at a time, so each can be held against the scalar reference.

#include "../../CKernels/include/flint_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// flint_linear_s8_packed on one given path, one thread, over output columns [n0, n1) (multiples of 8).
void flint_linear_s8_packed_path(flint_kernel_path path, int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                 const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                 const int32_t *group_sums, float *out);

/// The inverse of flint_pack_s8.
void flint_unpack_s8(int n, int k, const int8_t *packed, int8_t *w);

#ifdef __cplusplus
}
#endif

#endif
