// The int8 kernel against this CPU's peak (issue 5 asks for GOPS against the measured peak; run by hand):
//   1. the instruction peak: dependent-free chains of the AVX2 multiply-add sequences the kernel uses, with and
//      without the sign-transfer step (vpsignb), in G multiply-adds per second (1 multiply-add = 2 ops);
//   2. flint_linear_s8_packed on the encoder's shapes (m tokens × n outputs × k inputs), one thread.
//
//   clang -O2 -mavx2 -mfma -fno-strict-aliasing -ISources/CKernels/include -ISources/CKernelsTesting/include Benchmarks/KernelPeak/kernel_peak.c \
//       Sources/CKernels/*.c -lm -lpthread -o .build/kernel-peak && .build/kernel-peak
#include "flint_kernels_testing.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Four independent accumulator chains, each step 32 multiply-adds; `sign` adds the kernel's vpsignb.
__attribute__((noinline)) static __m256i chains(long steps, int sign, __m256i a, __m256i w0, __m256i w1, __m256i w2, __m256i w3) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
    for (long i = 0; i < steps; i++) {
        __m256i u = a, x0 = w0, x1 = w1, x2 = w2, x3 = w3;
        if (sign) {
            u = _mm256_abs_epi8(a);
            x0 = _mm256_sign_epi8(w0, a); x1 = _mm256_sign_epi8(w1, a); x2 = _mm256_sign_epi8(w2, a); x3 = _mm256_sign_epi8(w3, a);
        }
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x0), ones));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x1), ones));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x2), ones));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x3), ones));
        a = _mm256_add_epi8(a, ones);
        __asm__ volatile("" : "+x"(a));
    }
    return _mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3));
}

// The same for AVX-512 VNNI: eight independent vpdpbusd chains (its latency is several cycles, so fewer chains
// would measure latency, not throughput), each step 32 (ymm) or 64 (zmm) multiply-adds.
__attribute__((noinline, target("avx512f,avx512bw,avx512vl,avx512vnni")))
static __m256i vnni_chains_256(long steps, __m256i a, __m256i w) {
    __m256i c[8];
    for (int j = 0; j < 8; j++) c[j] = _mm256_setzero_si256();
    for (long i = 0; i < steps; i++) {
        for (int j = 0; j < 8; j++) c[j] = _mm256_dpbusd_epi32(c[j], a, w);
        __asm__ volatile("" : "+x"(a));
    }
    for (int j = 1; j < 8; j++) c[0] = _mm256_add_epi32(c[0], c[j]);
    return c[0];
}

__attribute__((noinline, target("avx512f,avx512bw,avx512vl,avx512vnni")))
static __m256i vnni_chains_512(long steps, __m256i a, __m256i w) {
    __m512i c[8], a5 = _mm512_broadcast_i64x4(a), w5 = _mm512_broadcast_i64x4(w);
    for (int j = 0; j < 8; j++) c[j] = _mm512_setzero_si512();
    for (long i = 0; i < steps; i++) {
        for (int j = 0; j < 8; j++) c[j] = _mm512_dpbusd_epi32(c[j], a5, w5);
        __asm__ volatile("" : "+v"(a5));
    }
    for (int j = 1; j < 8; j++) c[0] = _mm512_add_epi32(c[0], c[j]);
    return _mm512_castsi512_si256(c[0]);
}

static double vnni_rate(void *argument) {
    const int wide = *(int *)argument;
    const long steps = 50000000;
    double start = now();
    __m256i x = wide ? vnni_chains_512(steps, _mm256_set1_epi8(3), _mm256_set1_epi8(5))
                     : vnni_chains_256(steps, _mm256_set1_epi8(3), _mm256_set1_epi8(5));
    double seconds = now() - start;
    if (_mm256_extract_epi32(x, 0) == 42) puts("");
    return steps * 8.0 * (wide ? 64 : 32) / seconds / 1e9;
}

static double best_of(int runs, double (*measure)(void *), void *argument) {
    double best = 0;
    for (int r = 0; r < runs; r++) { double v = measure(argument); if (v > best) best = v; }
    return best;
}

static double chain_rate(void *argument) {
    const int sign = *(int *)argument;
    const long steps = 100000000;
    double start = now();
    __m256i x = chains(steps, sign, _mm256_set1_epi8(3), _mm256_set1_epi8(5), _mm256_set1_epi8(-7), _mm256_set1_epi8(9),
                       _mm256_set1_epi8(11));
    double seconds = now() - start;
    if (_mm256_extract_epi32(x, 0) == 42) puts("");   // keeps the result alive
    return steps * 4.0 * 32 / seconds / 1e9;
}

typedef struct { int m, n, k; } shape;

static double linear_rate(void *argument) {
    const shape *s = argument;
    int8_t *a = malloc((size_t)s->m * s->k), *w = malloc((size_t)s->n * s->k), *wp = malloc((size_t)s->n * s->k);
    float *as = malloc(sizeof(float) * s->m * s->k), *ws = malloc(sizeof(float) * s->n), *out = malloc(sizeof(float) * s->m * s->n);
    for (int i = 0; i < s->m * s->k; i++) a[i] = (int8_t)(rand() % 255 - 127);
    for (int i = 0; i < s->n * s->k; i++) w[i] = (int8_t)(rand() % 255 - 127);
    for (int i = 0; i < s->m * s->k; i++) as[i] = 0.01f;
    for (int i = 0; i < s->n; i++) ws[i] = 0.01f;
    flint_pack_s8(s->n, s->k, w, wp);
    // The group sums the encoder keeps per layer (the AVX-512 VNNI path reads them).
    int32_t *sums = malloc(sizeof(int32_t) * s->n * (s->k / 64));
    flint_weight_group_sums(s->n, s->k, 64, wp, sums);
    const int reps = (int)(1e9 / ((double)s->m * s->n * s->k)) + 3;
    double start = now();
    for (int i = 0; i < reps; i++)
        flint_linear_s8_packed_path(flint_kernel_selected(), s->m, s->n, 0, s->n, s->k, 64, a, as, wp, ws, NULL, sums, out);
    double seconds = (now() - start) / reps;
    free(a); free(w); free(wp); free(as); free(ws); free(out); free(sums);
    return (double)s->m * s->n * s->k / seconds / 1e9;
}

int main(void) {
    printf("kernel path %s; G multiply-adds/s per core (×2 for GOPS), best of 5\n", flint_kernel_name(flint_kernel_selected()));
    int sign = 1, plain = 0;
    printf("instruction peak: maddubs+madd %.1f, with the sign step %.1f\n", best_of(5, chain_rate, &plain), best_of(5, chain_rate, &sign));
    if (flint_kernel_supported(FLINT_KERNEL_AVX512VNNI)) {
        int narrow = 0, wide = 1;
        printf("instruction peak: vpdpbusd ymm %.1f, zmm %.1f\n", best_of(5, vnni_rate, &narrow), best_of(5, vnni_rate, &wide));
    }
    // The encoder's three shapes (Q/K/V/O, intermediate, output) for texts of 12, 46 and 222 tokens and for a batch
    // of 32 short ones (416 rows), activations in groups of 64 (the encoder's default).
    const shape shapes[] = {{12, 384, 384}, {12, 1536, 384}, {12, 384, 1536}, {46, 384, 384}, {46, 1536, 384}, {46, 384, 1536},
                            {222, 384, 384}, {222, 1536, 384}, {222, 384, 1536}, {416, 384, 384}, {416, 1536, 384}, {416, 384, 1536}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        shape s = shapes[i];
        printf("linear m=%d n=%d k=%d: %.1f\n", s.m, s.n, s.k, best_of(5, linear_rate, &s));
    }
    return 0;
}
