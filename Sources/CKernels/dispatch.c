// Picks the int8 path once, from CPU features (or as the caller forces it), and spreads the packed linear layer
// over the thread pool on that path.
#include "flint_kernels.h"

#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

int flint_kernel_supported(flint_kernel_path path) {
    switch (path) {
    case FLINT_KERNEL_SCALAR: return 1;
#if defined(__x86_64__)
    case FLINT_KERNEL_AVX2: return __builtin_cpu_supports("avx2");
    case FLINT_KERNEL_AVX512VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512vnni");
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

// Set before the first use by flint_kernel_force, else chosen from CPU features on first use. Benign race: every
// thread computes the same answer.
static int selected = -1;

flint_kernel_path flint_kernel_selected(void) {
    if (selected < 0) selected = (int)best_available();
    return (flint_kernel_path)selected;
}

int flint_kernel_force(flint_kernel_path path) {
    if (path < FLINT_KERNEL_SCALAR || path > FLINT_KERNEL_NEON || !flint_kernel_supported(path)) return 0;
    selected = (int)path;
    return 1;
}

int flint_kernel_uses_group_sums(void) { return flint_kernel_selected() == FLINT_KERNEL_AVX512VNNI; }

void flint_weight_group_sums_generic(int n, int k, int group, const int8_t *wp, int32_t *sums);
#if defined(__x86_64__)
int flint_weight_group_sums_avx512vnni(int n, int k, int group, const int8_t *wp, int32_t *sums);
#endif

void flint_weight_group_sums(int n, int k, int group, const int8_t *wp, int32_t *sums) {
#if defined(__x86_64__)
    // Computed at a model's first forward pass, so on the cold-start path: one vpdpbusd per 64 bytes where the
    // CPU has it (and only then does a path read them).
    if (flint_kernel_supported(FLINT_KERNEL_AVX512VNNI) && flint_weight_group_sums_avx512vnni(n, k, group, wp, sums)) return;
#endif
    flint_weight_group_sums_generic(n, k, group, wp, sums);
}

int flint_kernel_named(const char *name, flint_kernel_path *path) {
    for (int p = FLINT_KERNEL_SCALAR; p <= FLINT_KERNEL_NEON; p++) {
        if (strcmp(name, flint_kernel_name((flint_kernel_path)p)) == 0) {
            *path = (flint_kernel_path)p;
            return 1;
        }
    }
    return 0;
}

void flint_linear_s8_packed_generic(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                    const int8_t *wp, const float *w_scales, const float *bias, float *out);
#if defined(__x86_64__)
void flint_linear_s8_packed_avx2(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const float *w_scales, const float *bias, float *out);
void flint_linear_s8_packed_avx512vnni(int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                       const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                       const int32_t *group_sums, float *out);
#endif
#if defined(__aarch64__)
void flint_linear_s8_packed_neon(int m, int n, int n0, int n1, int k, int group, const int8_t *a, const float *a_scales,
                                 const int8_t *wp, const float *w_scales, const float *bias, float *out);
#endif

void flint_linear_s8_packed_path(flint_kernel_path path, int m, int n, int n0, int n1, int k, int group, const int8_t *a,
                                 const float *a_scales, const int8_t *wp, const float *w_scales, const float *bias,
                                 const int32_t *group_sums, float *out) {
    if (group <= 0 || k % group != 0 || group % 4 != 0) group = k;
    if (!flint_kernel_supported(path)) path = FLINT_KERNEL_SCALAR;
    switch (path) {
#if defined(__x86_64__)
    case FLINT_KERNEL_AVX2:
        flint_linear_s8_packed_avx2(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, out); return;
    case FLINT_KERNEL_AVX512VNNI:
        flint_linear_s8_packed_avx512vnni(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, group_sums, out); return;
#endif
#if defined(__aarch64__)
    case FLINT_KERNEL_NEON: flint_linear_s8_packed_neon(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, out); return;
#endif
    default: flint_linear_s8_packed_generic(m, n, n0, n1, k, group, a, a_scales, wp, w_scales, bias, out); return;
    }
}

typedef struct {
    int m, n, k, group;
    const int8_t *a;
    const float *a_scales;
    const int8_t *wp;
    const float *w_scales;
    const float *bias;
    const int32_t *group_sums;
    float *out;
} packed_job;

static void packed_part(void *argument, int part, int parts) {
    const packed_job *job = argument;
    // Split on 16-output strips, the AVX2 tile width.
    int strips = (job->n + 15) / 16;
    int first = (int)((long)strips * part / parts) * 16, last = (int)((long)strips * (part + 1) / parts) * 16;
    if (last > job->n) last = job->n;
    if (last <= first) return;
    flint_linear_s8_packed_path(flint_kernel_selected(), job->m, job->n, first, last, job->k, job->group, job->a,
                                job->a_scales, job->wp, job->w_scales, job->bias, job->group_sums, job->out);
}

void flint_linear_s8_packed(int m, int n, int k, int group, const int8_t *a, const float *a_scales, const int8_t *wp,
                            const float *w_scales, const float *bias, const int32_t *group_sums, float *out) {
    packed_job job = {m, n, k, group, a, a_scales, wp, w_scales, bias, group_sums, out};
    // Below about 8 M multiply-adds (~150 µs on one core) a hand-off saves too little: waking a pool thread on a VM
    // costs tens of microseconds, up to the whole saving when it has gone to sleep, and it shows in the tail
    // (a 12-token text on 2 threads: p90 4.0 ms with this threshold against 5.9–7.1 ms with 1 M). So a short
    // text's layers stay on one thread, and an intermediate layer splits from about 14 tokens (MiniLM).
    // Once a split has woken the workers, they poll for a while, and a smaller layer (from 1 M) is worth
    // splitting too: a 46-token text's Q/K/V/output layers after its first split.
    long work = (long)m * n * k;
    int parts = work >= 8L * 1024 * 1024 || (work >= 1L * 1024 * 1024 && flint_pool_polling()) ? flint_thread_count() : 1;
    flint_parallel_for(parts, packed_part, &job);
}
