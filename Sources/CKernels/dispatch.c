// Picks the int8 path once, from CPU features (or FLINT_KERNEL), and runs the linear layer's float epilogue,
// which is shared by every path so equal integer sums give equal floats.
#include "flint_kernels.h"

#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

void flint_gemm_s8_i32_generic(int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out);
#if defined(__x86_64__)
void flint_gemm_s8_i32_avx2(int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out);
void flint_gemm_s8_i32_avx512vnni(int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out);
#endif
#if defined(__aarch64__)
void flint_gemm_s8_i32_neon(int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out);
#endif

int flint_kernel_supported(flint_kernel_path path) {
    switch (path) {
    case FLINT_KERNEL_SCALAR: return 1;
#if defined(__x86_64__)
    case FLINT_KERNEL_AVX2: return __builtin_cpu_supports("avx2");
    case FLINT_KERNEL_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
#endif
#if defined(__aarch64__) && defined(__linux__)
    case FLINT_KERNEL_NEON:
#ifdef HWCAP_ASIMDDP
        return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
        return 0;
#endif
#endif
    default: return 0;
    }
}

const char *flint_kernel_name(flint_kernel_path path) {
    switch (path) {
    case FLINT_KERNEL_SCALAR: return "scalar";
    case FLINT_KERNEL_AVX2: return "avx2";
    case FLINT_KERNEL_AVX512VNNI: return "avx512vnni";
    case FLINT_KERNEL_NEON: return "neon";
    }
    return "unknown";
}

static flint_kernel_path best_available(void) {
    if (flint_kernel_supported(FLINT_KERNEL_AVX512VNNI)) return FLINT_KERNEL_AVX512VNNI;
    if (flint_kernel_supported(FLINT_KERNEL_AVX2)) return FLINT_KERNEL_AVX2;
    if (flint_kernel_supported(FLINT_KERNEL_NEON)) return FLINT_KERNEL_NEON;
    return FLINT_KERNEL_SCALAR;
}

flint_kernel_path flint_kernel_selected(void) {
    // Benign race: every thread computes the same answer.
    static int selected = -1;
    if (selected < 0) {
        flint_kernel_path path = best_available();
        const char *forced = getenv("FLINT_KERNEL");
        if (forced) {
            for (int p = FLINT_KERNEL_SCALAR; p <= FLINT_KERNEL_NEON; p++) {
                if (strcmp(forced, flint_kernel_name((flint_kernel_path)p)) == 0 && flint_kernel_supported((flint_kernel_path)p)) {
                    path = (flint_kernel_path)p;
                }
            }
        }
        selected = (int)path;
    }
    return (flint_kernel_path)selected;
}

void flint_gemm_s8_i32(flint_kernel_path path, int m, int n, int k, const int8_t *a, const int8_t *w, int32_t *out) {
    if (!flint_kernel_supported(path)) path = FLINT_KERNEL_SCALAR;
    switch (path) {
#if defined(__x86_64__)
    case FLINT_KERNEL_AVX2: flint_gemm_s8_i32_avx2(m, n, k, a, w, out); return;
    case FLINT_KERNEL_AVX512VNNI: flint_gemm_s8_i32_avx512vnni(m, n, k, a, w, out); return;
#endif
#if defined(__aarch64__)
    case FLINT_KERNEL_NEON: flint_gemm_s8_i32_neon(m, n, k, a, w, out); return;
#endif
    default: flint_gemm_s8_i32_generic(m, n, k, a, w, out); return;
    }
}

void flint_linear_s8(int m, int n, int k, const int8_t *a, const float *a_scales, const int8_t *w,
                     const float *w_scales, const float *bias, float *out, int32_t *scratch) {
    flint_gemm_s8_i32(flint_kernel_selected(), m, n, k, a, w, scratch);
    for (int i = 0; i < m; i++) {
        float row_scale = a_scales[i];
        const int32_t *sums = scratch + (size_t)i * n;
        float *o = out + (size_t)i * n;
        for (int j = 0; j < n; j++) o[j] = (float)sums[j] * (row_scale * w_scales[j]) + (bias ? bias[j] : 0.0f);
    }
}
