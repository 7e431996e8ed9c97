/* Elementwise activations (contracts in elementwise.h). Compiled as part of
 * functions.c, which sets the floating-point pragmas. */
#include "elementwise.h"
#include "exp_log.h"
#include "half.h"

/* --- elementwise -------------------------------------------------------------
 * The book's formulas, one scalar function each; the contiguous and strided
 * loops below apply the same function to each element. */

CNET_INLINE double sigmoid_grad_f64(double x)
{
    return cnet_sigmoid_grad_y_f64(cnet_sigmoid_f64(x));
}

CNET_INLINE float sigmoid_grad_f32(float x)
{
    return cnet_sigmoid_grad_y_f32(cnet_sigmoid_f32(x));
}

/* np.maximum(0, x) returns x for -0.0 and NaN: only x < 0 becomes 0. */
CNET_INLINE double relu_f64(double x) { return x < 0.0 ? 0.0 : x; }
CNET_INLINE float relu_f32(float x) { return x < 0.0f ? 0.0f : x; }
CNET_INLINE double relu_grad_f64(double x) { return x >= 0.0 ? 1.0 : 0.0; }
CNET_INLINE float relu_grad_f32(float x) { return x >= 0.0f ? 1.0f : 0.0f; }

#define CNET_UNARY_LOOP(FN)                                                   \
    do {                                                                      \
        size_t i_;                                                            \
        if (xs == 1 && ys == 1) {                                             \
            for (i_ = 0; i_ < n; i_++)                                        \
                y[i_] = FN(x[i_]);                                            \
        } else {                                                              \
            for (i_ = 0; i_ < n; i_++)                                        \
                y[(ptrdiff_t)i_ * ys] = FN(x[(ptrdiff_t)i_ * xs]);            \
        }                                                                     \
    } while (0)

CNET_DISPATCH
void cnet_unary_f64(int op, const double *x, ptrdiff_t xs, double *y, ptrdiff_t ys, size_t n)
{
    switch (op) {
    case CNET_SIGMOID: CNET_UNARY_LOOP(cnet_sigmoid_f64); break;
    case CNET_SIGMOID_GRAD: CNET_UNARY_LOOP(sigmoid_grad_f64); break;
    case CNET_RELU: CNET_UNARY_LOOP(relu_f64); break;
    case CNET_RELU_GRAD: CNET_UNARY_LOOP(relu_grad_f64); break;
    default: break;
    }
}

CNET_DISPATCH
void cnet_unary_f32(int op, const float *x, ptrdiff_t xs, float *y, ptrdiff_t ys, size_t n)
{
    switch (op) {
    case CNET_SIGMOID: CNET_UNARY_LOOP(cnet_sigmoid_f32); break;
    case CNET_SIGMOID_GRAD: CNET_UNARY_LOOP(sigmoid_grad_f32); break;
    case CNET_RELU: CNET_UNARY_LOOP(relu_f32); break;
    case CNET_RELU_GRAD: CNET_UNARY_LOOP(relu_grad_f32); break;
    default: break;
    }
}

/* float16 follows the book's arithmetic step by step, each step rounded to
 * half as NumPy does: exp(-x) overflows half for x < -11.09, giving 0. */

CNET_INLINE float sigmoid_f16_value(uint16_t h)
{
    float e = cnet_round_half(cnet_exp_inline_f32(-cnet_half_to_float(h)));
    return cnet_round_half(1.0f / cnet_round_half(1.0f + e));
}

CNET_INLINE uint16_t sigmoid_f16(uint16_t h)
{
    return cnet_float_to_half(sigmoid_f16_value(h));
}

CNET_INLINE uint16_t sigmoid_grad_f16(uint16_t h)
{
    float s = sigmoid_f16_value(h);
    return cnet_float_to_half(cnet_round_half(1.0f - s) * s);
}

CNET_INLINE uint16_t relu_f16(uint16_t h)
{
    return cnet_half_to_float(h) < 0.0f ? (uint16_t)0 : h;
}

CNET_INLINE uint16_t relu_grad_f16(uint16_t h)
{
    return cnet_half_to_float(h) >= 0.0f ? (uint16_t)0x3c00 : (uint16_t)0; /* 1.0 : 0.0 */
}

void cnet_unary_f16(int op, const uint16_t *x, ptrdiff_t xs, uint16_t *y, ptrdiff_t ys,
                    size_t n)
{
    switch (op) {
    case CNET_SIGMOID: CNET_UNARY_LOOP(sigmoid_f16); break;
    case CNET_SIGMOID_GRAD: CNET_UNARY_LOOP(sigmoid_grad_f16); break;
    case CNET_RELU: CNET_UNARY_LOOP(relu_f16); break;
    case CNET_RELU_GRAD: CNET_UNARY_LOOP(relu_grad_f16); break;
    default: break;
    }
}
