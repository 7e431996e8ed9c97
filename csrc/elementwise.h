/* Elementwise activations of the book's common/functions.py: sigmoid, its
 * gradient, ReLU and its gradient, for float64, float32 and float16 (bits).
 * n is an element count; strides are in elements. */
#ifndef CNET_ELEMENTWISE_H
#define CNET_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "exp_log.h"

/* The book's sigmoid, 1 / (1 + exp(-x)), and its gradient from the saved
 * output y, (1 - y) y: one inline formula each, compiled into every caller's
 * SIMD clones (cnet_unary_*, TwoLayerNet's hidden layer and backward pass,
 * the numerical gradient's forward pass). */
CNET_ALWAYS_INLINE double cnet_sigmoid_f64(double x)
{
    return 1.0 / (1.0 + cnet_exp_inline_f64(-x));
}

CNET_ALWAYS_INLINE float cnet_sigmoid_f32(float x)
{
    return 1.0f / (1.0f + cnet_exp_inline_f32(-x));
}

CNET_ALWAYS_INLINE double cnet_sigmoid_grad_y_f64(double y) { return (1.0 - y) * y; }
CNET_ALWAYS_INLINE float cnet_sigmoid_grad_y_f32(float y) { return (1.0f - y) * y; }

/* Elementwise operations of cnet_unary_*. */
enum cnet_unary_op {
    CNET_SIGMOID = 0,      /* 1 / (1 + exp(-x)) */
    CNET_SIGMOID_GRAD = 1, /* (1 - sigmoid(x)) * sigmoid(x) */
    CNET_RELU = 2,         /* max(0, x); NaN and -0.0 pass through as np.maximum(0, x) */
    CNET_RELU_GRAD = 3     /* 1 where x >= 0, else 0 (NaN gives 0) */
};

/* y[i*ys] = op(x[i*xs]) for i < n: x (n,) IN, y (n,) OUT (may be x itself).
 * Serial; the caller splits the work across threads. */
void cnet_unary_f64(int op, const double *x, ptrdiff_t xs, double *y, ptrdiff_t ys, size_t n);
void cnet_unary_f32(int op, const float *x, ptrdiff_t xs, float *y, ptrdiff_t ys, size_t n);
void cnet_unary_f16(int op, const uint16_t *x, ptrdiff_t xs, uint16_t *y, ptrdiff_t ys,
                    size_t n);

#endif
