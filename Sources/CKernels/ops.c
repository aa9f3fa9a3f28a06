// Float helpers around the int8 core. Plain loops the compiler vectorises; one definition for every path.
#include "flint_kernels.h"

#include <math.h>

void flint_quantize_rows(int rows, int cols, const float *x, int8_t *q, float *scales) {
    for (int i = 0; i < rows; i++) {
        const float *row = x + (size_t)i * cols;
        float largest = 0.0f;
        for (int j = 0; j < cols; j++) largest = fmaxf(largest, fabsf(row[j]));
        float scale = largest / 127.0f;
        scales[i] = scale;
        float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
        for (int j = 0; j < cols; j++) {
            float v = nearbyintf(row[j] * inverse);
            v = fminf(127.0f, fmaxf(-127.0f, v));
            q[(size_t)i * cols + j] = (int8_t)v;
        }
    }
}

void flint_layer_norm(int rows, int cols, float *x, const float *gamma, const float *beta, float eps) {
    for (int i = 0; i < rows; i++) {
        float *row = x + (size_t)i * cols;
        double mean = 0.0, variance = 0.0;
        for (int j = 0; j < cols; j++) mean += row[j];
        mean /= cols;
        for (int j = 0; j < cols; j++) { double d = row[j] - mean; variance += d * d; }
        variance /= cols;
        float inverse = (float)(1.0 / sqrt(variance + eps));
        float m = (float)mean;
        for (int j = 0; j < cols; j++) row[j] = (row[j] - m) * inverse * gamma[j] + beta[j];
    }
}

void flint_softmax(float *x, int count) {
    float largest = -INFINITY;
    for (int i = 0; i < count; i++) largest = fmaxf(largest, x[i]);
    float sum = 0.0f;
    for (int i = 0; i < count; i++) { x[i] = expf(x[i] - largest); sum += x[i]; }
    float inverse = 1.0f / sum;
    for (int i = 0; i < count; i++) x[i] *= inverse;
}

void flint_gelu_erf(float *x, int count) {
    for (int i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}
