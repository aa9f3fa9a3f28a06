#ifndef FLINT_KERNELS_H
#define FLINT_KERNELS_H

// Flint's compute kernels. One shared signature per operation; one file per instruction set (linear_avx2.c,
// linear_avx512vnni.c, linear_neon.c) plus a scalar reference (linear_generic.c) that the others are tested
// against, bit for bit on the integer sums. What only tests and benchmarks call is in CKernelsTesting.
//
// int8 conventions: weights and activations are symmetric int8 in [-127, 127] (never -128), so the AVX2
// sign-transfer trick cannot saturate and every path returns the same int32 sums.

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set paths, in order of preference.
typedef enum {
    FLINT_KERNEL_SCALAR = 0,
    FLINT_KERNEL_AVX2 = 1,
    FLINT_KERNEL_AVX512VNNI = 2,
    FLINT_KERNEL_NEON = 3,
} flint_kernel_path;

/// The path in use: the one flint_kernel_force set, else the best this CPU has, chosen on first use.
flint_kernel_path flint_kernel_selected(void);
/// Makes `path` the one in use, before the first kernel runs; returns 0 (and changes nothing) when this CPU or
/// build cannot run it. Reads no environment: the caller decides (Flint's settings take it from FLINT_KERNEL).
int flint_kernel_force(flint_kernel_path path);
/// The path called `name` (scalar, avx2, avx512vnni, neon) in *path; 0 when no path has that name.
int flint_kernel_named(const char *name, flint_kernel_path *path);
/// Whether this CPU (and build) can run `path`.
int flint_kernel_supported(flint_kernel_path path);
/// The path's name.
const char *flint_kernel_name(flint_kernel_path path);

/// Packed weights: the layout the model file stores linear layers in, so that one vector load holds four inputs
/// of eight output rows and the sums land one output per lane (no horizontal adds). Rows come in blocks of 8;
/// within block b, for each quad q of 4 consecutive inputs, the 8 rows' 4 bytes follow each other:
/// packed[((b * (k / 4) + q) * 8 + r) * 4 + t] = w[(b * 8 + r) * k + q * 4 + t]. Needs n % 8 == 0 and k % 4 == 0.
void flint_pack_s8(int n, int k, const int8_t *w, int8_t *packed);

/// The int8 linear layer over packed weights `wp` (n × k), with activations `a` (m × k) quantized in groups of
/// `group` along k (a_scales[i * (k / group) + g]): out[i*n + j] = Σ_g (int32 Σ_{kk in g} a[i, kk] · w[j, kk]) ×
/// a_scales[i, g] × w_scales[j] + bias[j] (bias may be NULL). `group` must divide k and be a multiple of 4 (else
/// one group of k). The integer sums are exact on every path; threads split the output columns. `group_sums`
/// (may be NULL) is flint_weight_group_sums of these weights and this group: the AVX-512 VNNI path needs them and
/// computes them on every call without; the other paths ignore them.
void flint_linear_s8_packed(int m, int n, int k, int group, const int8_t *a, const float *a_scales, const int8_t *wp,
                            const float *w_scales, const float *bias, const int32_t *group_sums, float *out);

/// Each output row's weights summed over each activation group of packed weights `wp` (n × k):
/// sums[g * n + j] = Σ_{kk in group g} w[j, kk]. Weights only, so a caller computes them once per layer.
void flint_weight_group_sums(int n, int k, int group, const int8_t *wp, int32_t *sums);

/// Whether the selected path reads group sums (flint_linear_s8_packed's `group_sums`): only then are they worth
/// computing and keeping.
int flint_kernel_uses_group_sums(void);

/// Dynamic per-row quantization: scales[i] = max|x_i| / 127, q = round(x / scale) in [-127, 127].
void flint_quantize_rows(int rows, int cols, const float *x, int8_t *q, float *scales);

/// The same per group of `group` consecutive values of each row: scales[i * (cols / group) + g].
void flint_quantize_groups(int rows, int cols, int group, const float *x, int8_t *q, float *scales);

/// The same of x_ij × multipliers[j] (`cols` multipliers, one per column): activations smoothed before they are
/// quantized, their layer's weight columns having been multiplied by the reciprocals when the model was made
/// (SmoothQuant), so that outlier columns no longer coarsen the rest of their group.
void flint_quantize_groups_smoothed(int rows, int cols, int group, const float *x, const float *multipliers,
                                    int8_t *q, float *scales);

/// In place: x_i = (x_i - mean) / sqrt(var + eps) * gamma + beta, per row.
void flint_layer_norm(int rows, int cols, float *x, const float *gamma, const float *beta, float eps);

/// In place, numerically stable softmax over `count` values.
void flint_softmax(float *x, int count);

/// Multi-head scaled dot-product attention over one unpadded sequence: q, k, v and context are count × hidden;
/// `scratch` holds flint_thread_count() × (hidden / heads + 4) × (count rounded up to a multiple of 16) floats.
/// Heads are spread over the pool.
void flint_attention(int count, int hidden, int heads, const float *q, const float *k, const float *v, float *context,
                     float *scratch);

/// In place exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
void flint_gelu_erf(float *x, int count);

/// Threads used for intra-op work: as flint_pool_configure set, else the CPUs this process may use (affinity,
/// cgroup quota and flint_pool_cap), at most 16. The pool starts on first use and lives for the process.
int flint_thread_count(void);

/// Sizes the pool before it starts: `threads` (0: from the CPUs) and the workers' polling window in µs (negative
/// keeps the default, 200; 0 never polls). Returns 0 and changes nothing once the pool has started.
int flint_pool_configure(int threads, long spin_microseconds);

/// Caps the pool sized from the CPUs at `cpus` (the CPU share a platform grants that no file shows, such as a Lambda
/// memory size's: a function below 1,769 MB gets a fraction of a CPU, where a second thread only waits). An explicit
/// flint_pool_configure thread count is not capped. Returns 0 and changes nothing once the pool has started.
int flint_pool_cap(int cpus);

/// Runs function(argument, part, parts) for every part, spread over the pool (the caller takes part 0); returns
/// when all are done. Concurrent callers take turns; a part must not call it again (it would wait for itself).
void flint_parallel_for(int parts, void (*function)(void *, int, int), void *argument);

/// Whether the pool's workers are most likely still polling for work after a recent split (so a hand-off costs
/// about a microsecond instead of a wake-up). A hint for sizing decisions; 0 with one thread.
int flint_pool_polling(void);

/// Wakes the pool's sleeping workers so that they poll for work for one spin window, without
/// waiting for them: called as a forward pass starts, it lets a short text's small layers split too, the wake-up
/// overlapping the embedding lookup. No effect with one thread.
void flint_pool_wake(void);

#ifdef __cplusplus
}
#endif

#endif
