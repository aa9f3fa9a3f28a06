// Float helpers around the int8 core. Plain loops the compiler vectorises; one definition for every path.
#include "flint_kernels.h"

#include <math.h>
#include <string.h>

// The float loops here are plain C that the compiler vectorises; on x86-64 each is also built for AVX2 + FMA and
// the loader picks that clone on CPUs that have it (GNU ifunc, which static executables support too).
#if defined(__x86_64__) && defined(__clang__)
#define FLINT_FLOAT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FLINT_FLOAT_CLONES
#endif

static inline float exp_nonpositive(float x);

// Written so the compiler vectorises them without -ffast-math: integer max reductions, branch-free clamps, and
// rounding by the 1.5 × 2^23 trick (round-half-even, like nearbyintf in the default rounding mode).
static inline uint32_t magnitude_bits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits & 0x7FFFFFFFu;
}

// One body for both entry points; `multipliers` is a constant NULL in one, so each is compiled for its own case.
static inline __attribute__((always_inline)) void quantize_groups(int rows, int cols, int group, const float *x,
                                                                  const float *multipliers, int8_t *q,
                                                                  float *scales) {
    const float magic = 12582912.0f;
    if (group <= 0 || cols % group != 0) group = cols;
    const int groups = cols / group;
    // Rows are contiguous, so the groups of all rows are one sequence of rows × groups slices.
    for (int i = 0; i < rows * groups; i++) {
        const float *row = x + (size_t)i * group;
        const float *m = multipliers ? multipliers + (size_t)(i % groups) * group : NULL;
        // Non-negative floats order like their bit patterns, so the max |x| is an integer reduction.
        uint32_t largest_bits = 0;
        for (int j = 0; j < group; j++) {
            uint32_t bits = magnitude_bits(m ? row[j] * m[j] : row[j]);
            largest_bits = bits > largest_bits ? bits : largest_bits;
        }
        float largest;
        memcpy(&largest, &largest_bits, sizeof largest);
        // One division a group, not two: it is a long-latency instruction the group's loop waits on.
        float scale = largest * (1.0f / 127.0f);
        scales[i] = scale;
        float inverse = largest > 0.0f ? 127.0f / largest : 0.0f;
        int8_t *out = q + (size_t)i * group;
        for (int j = 0; j < group; j++) {
            float v = (m ? row[j] * m[j] : row[j]) * inverse;
            v = v > 127.0f ? 127.0f : v;
            v = v < -127.0f ? -127.0f : v;
            v = (v + magic) - magic;
            out[j] = (int8_t)v;
        }
    }
}

FLINT_FLOAT_CLONES
void flint_quantize_groups(int rows, int cols, int group, const float *x, int8_t *q, float *scales) {
    quantize_groups(rows, cols, group, x, NULL, q, scales);
}

FLINT_FLOAT_CLONES
void flint_quantize_groups_smoothed(int rows, int cols, int group, const float *x, const float *multipliers,
                                    int8_t *q, float *scales) {
    quantize_groups(rows, cols, group, x, multipliers, q, scales);
}

void flint_quantize_rows(int rows, int cols, const float *x, int8_t *q, float *scales) {
    flint_quantize_groups(rows, cols, cols, x, q, scales);
}

/// Sums in double, in eight independent lanes so that the compiler can vectorise them without reassociating.
static inline __attribute__((always_inline)) double sum_lanes(const float *x, int count, double center, int squares) {
    double lanes[8] = {0};
    int j = 0;
    for (; j + 8 <= count; j += 8)
        for (int l = 0; l < 8; l++) {
            double d = (double)x[j + l] - center;
            lanes[l] += squares ? d * d : d;
        }
    double sum = 0.0;
    for (int l = 0; l < 8; l++) sum += lanes[l];
    for (; j < count; j++) {
        double d = (double)x[j] - center;
        sum += squares ? d * d : d;
    }
    return sum;
}

FLINT_FLOAT_CLONES
void flint_layer_norm(int rows, int cols, float *x, const float *gamma, const float *beta, float eps) {
    for (int i = 0; i < rows; i++) {
        float *row = x + (size_t)i * cols;
        double mean = sum_lanes(row, cols, 0.0, 0) / cols;
        double variance = sum_lanes(row, cols, mean, 1) / cols;
        float inverse = (float)(1.0 / sqrt(variance + eps));
        float m = (float)mean;
        for (int j = 0; j < cols; j++) row[j] = (row[j] - m) * inverse * gamma[j] + beta[j];
    }
}

// Softmax with its two reductions (max, sum) kept in eight independent lanes, which the compiler turns into one
// vector register without reassociating float math (a single running max or sum is a serial chain it must keep,
// and that chain made attention 40% of a 222-token pass).
static inline __attribute__((always_inline)) void softmax_row(float *x, int count) {
    float lanes[8];
    for (int l = 0; l < 8; l++) lanes[l] = -INFINITY;
    int i = 0;
    for (; i + 8 <= count; i += 8)
        for (int l = 0; l < 8; l++) lanes[l] = x[i + l] > lanes[l] ? x[i + l] : lanes[l];
    float largest = -INFINITY;
    for (int l = 0; l < 8; l++) largest = lanes[l] > largest ? lanes[l] : largest;
    for (; i < count; i++) largest = x[i] > largest ? x[i] : largest;
    for (int j = 0; j < count; j++) x[j] = exp_nonpositive(x[j] - largest);
    for (int l = 0; l < 8; l++) lanes[l] = 0.0f;
    for (i = 0; i + 8 <= count; i += 8)
        for (int l = 0; l < 8; l++) lanes[l] += x[i + l];
    float sum = 0.0f;
    for (int l = 0; l < 8; l++) sum += lanes[l];
    for (; i < count; i++) sum += x[i];
    const float inverse = 1.0f / sum;
    for (int j = 0; j < count; j++) x[j] *= inverse;
}

FLINT_FLOAT_CLONES
void flint_softmax(float *x, int count) { softmax_row(x, count); }

/// e^x for x ≤ 0 (GELU needs exp(-z²)): x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6 Taylor polynomial for
/// e^r, and 2^n built in the exponent bits. Relative error below 2e-7 on the range GELU uses.
static inline float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t exponent = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &exponent, sizeof scale);
    return p * scale;
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), odd-extended to negative arguments.
static inline float erf_approx(float x) {
    float sign = x < 0.0f ? -1.0f : 1.0f;
    float a = x * sign;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float y = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    return sign * (1.0f - y * exp_nonpositive(-a * a));
}

FLINT_FLOAT_CLONES
void flint_gelu_erf(float *x, int count) {
    for (int i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
}

typedef struct {
    int count, hidden, heads;
    const float *q, *k, *v;
    float *context, *scratch;
} attention_job;

/// Scores of R query rows against 16 × W keys from j0 (W = 1 or 2, a constant at each call): key_t holds the head's
/// keys transposed ([d][j], `stride` apart), so 16 keys' values for one dimension are one load. Two accumulator
/// arrays, not one of [2][4][16]: clang vectorises this shape and not that one.
static inline __attribute__((always_inline)) void attention_scores_block(const int R, const int W, const float *const *q,
                                                                         int head_size, float scale, const float *key_t,
                                                                         int stride, int j0, float *scores) {
    float acc[4][16], acc2[4][16];
    for (int r = 0; r < R; r++) for (int l = 0; l < 16; l++) acc[r][l] = acc2[r][l] = 0.0f;
    for (int d = 0; d < head_size; d++) {
        const float *kd = key_t + (size_t)d * stride + j0;
        for (int r = 0; r < R; r++) {
            const float x = q[r][d];
            for (int l = 0; l < 16; l++) acc[r][l] += x * kd[l];
            if (W == 2) for (int l = 0; l < 16; l++) acc2[r][l] += x * kd[16 + l];
        }
    }
    for (int r = 0; r < R; r++) {
        for (int l = 0; l < 16; l++) scores[(size_t)r * stride + j0 + l] = acc[r][l] * scale;
        if (W == 2) for (int l = 0; l < 16; l++) scores[(size_t)r * stride + j0 + 16 + l] = acc2[r][l] * scale;
    }
}

/// Context dimensions [e0, e0 + 16 × W) of R rows: the probabilities in `scores` against V.
static inline __attribute__((always_inline)) void attention_context_block(const int R, const int W, const attention_job *job,
                                                                          int i, int offset, int e0, int stride,
                                                                          const float *scores) {
    const int hidden = job->hidden, count = job->count;
    float acc[4][16], acc2[4][16];
    for (int r = 0; r < R; r++) for (int l = 0; l < 16; l++) acc[r][l] = acc2[r][l] = 0.0f;
    for (int j = 0; j < count; j++) {
        const float *vj = job->v + (size_t)j * hidden + offset + e0;
        for (int r = 0; r < R; r++) {
            const float p = scores[(size_t)r * stride + j];
            for (int l = 0; l < 16; l++) acc[r][l] += p * vj[l];
            if (W == 2) for (int l = 0; l < 16; l++) acc2[r][l] += p * vj[16 + l];
        }
    }
    for (int r = 0; r < R; r++) {
        float *ci = job->context + (size_t)(i + r) * hidden + offset + e0;
        for (int l = 0; l < 16; l++) ci[l] = acc[r][l];
        if (W == 2) for (int l = 0; l < 16; l++) ci[16 + l] = acc2[r][l];
    }
}

// R query rows (1 or 4, a constant at each call) of one head: their scores against every key, 16 × P keys at a time
// in registers, the softmax of each row, then their context rows, 16 × P dimensions at a time likewise. Each key and
// value load serves R rows. The keys are padded with zeros to `stride` (a multiple of 16), so the last, partial
// block takes the same path as the others; its extra scores are never read (the softmax covers `count`).
static inline __attribute__((always_inline)) void attention_rows(const int R, const int P, const attention_job *job, int i,
                                                                 int offset, int head_size, float scale, const float *key_t,
                                                                 int stride, float *scores) {
    const int count = job->count, hidden = job->hidden;
    const float *q[4];
    for (int r = 0; r < R; r++) q[r] = job->q + (size_t)(i + r) * hidden + offset;
    int j0 = 0;
    for (; j0 + 16 * P <= stride; j0 += 16 * P) attention_scores_block(R, P, q, head_size, scale, key_t, stride, j0, scores);
    if (P == 2 && j0 < stride) attention_scores_block(R, 1, q, head_size, scale, key_t, stride, j0, scores);
    for (int r = 0; r < R; r++) softmax_row(scores + (size_t)r * stride, count);
    int e0 = 0;
    for (; e0 + 16 * P <= head_size; e0 += 16 * P) attention_context_block(R, P, job, i, offset, e0, stride, scores);
    if (P == 2 && e0 + 16 <= head_size) {
        attention_context_block(R, 1, job, i, offset, e0, stride, scores);
        e0 += 16;
    }
    for (; e0 < head_size; e0++) {
        for (int r = 0; r < R; r++) {
            float sum = 0.0f;
            for (int j = 0; j < count; j++) sum += scores[(size_t)r * stride + j] * job->v[(size_t)j * hidden + offset + e0];
            job->context[(size_t)(i + r) * hidden + offset + e0] = sum;
        }
    }
}

/// Heads [part·heads/parts, (part+1)·heads/parts), with this part's own slice of the scratch, 16 × P keys and
/// dimensions a pass.
static inline __attribute__((always_inline)) void attention_heads(const attention_job *job, int part, int parts, const int P) {
    const int count = job->count, hidden = job->hidden, head_size = hidden / job->heads;
    const int stride = (count + 15) / 16 * 16;
    const float scale = 1.0f / sqrtf((float)head_size);
    float *key_t = job->scratch + (size_t)part * (head_size + 4) * stride;
    float *scores = key_t + (size_t)head_size * stride;
    for (int head = job->heads * part / parts; head < job->heads * (part + 1) / parts; head++) {
        const int offset = head * head_size;
        // K of this head transposed to [d][j], zeros after the last key. Scalar on purpose: vectorised, this loop
        // becomes scatter stores, which AMD's cores run microcoded (a tenth of a 46-token pass's attention time).
        for (int j = 0; j < count; j++) {
            const float *kj = job->k + (size_t)j * hidden + offset;
#if defined(__clang__)
#pragma clang loop vectorize(disable)
#endif
            for (int d = 0; d < head_size; d++) key_t[(size_t)d * stride + j] = kj[d];
        }
        for (int d = 0; d < head_size; d++)
            for (int j = count; j < stride; j++) key_t[(size_t)d * stride + j] = 0.0f;
        int i = 0;
        for (; i + 4 <= count; i += 4) attention_rows(4, P, job, i, offset, head_size, scale, key_t, stride, scores);
        for (; i < count; i++) attention_rows(1, P, job, i, offset, head_size, scale, key_t, stride, scores);
    }
}

FLINT_FLOAT_CLONES
static void attention_part(void *argument, int part, int parts) { attention_heads(argument, part, parts, 1); }

#if defined(__x86_64__) && defined(__clang__)
// With AVX-512 a row's 16 scores are one register, so four rows are only four chains of dependent FMAs, too few to
// cover their latency: two blocks of 16 keys (and dimensions) a pass make eight. AVX2 keeps one block (two would
// spill its 16 registers), so the wide pass is a function of its own, picked at run time.
__attribute__((target_clones("arch=x86-64-v4", "default")))
static void attention_part_wide(void *argument, int part, int parts) { attention_heads(argument, part, parts, 2); }
#endif

void flint_attention(int count, int hidden, int heads, const float *q, const float *k, const float *v, float *context,
                     float *scratch) {
    attention_job job = {count, hidden, heads, q, k, v, context, scratch};
    // Short sequences finish before a worker would wake up, unless the workers are still polling after a split.
    int parts = count >= 64 || (count >= 16 && flint_pool_polling()) ? flint_thread_count() : 1;
    if (parts > heads) parts = heads;
#if defined(__x86_64__) && defined(__clang__)
    static int wide = -1;   // benign race: every thread computes the same answer
    if (wide < 0) wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    flint_parallel_for(parts, wide ? attention_part_wide : attention_part, &job);
#else
    flint_parallel_for(parts, attention_part, &job);
#endif
}
