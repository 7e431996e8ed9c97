/* Kernels of the activation layers (the book's Relu and Sigmoid): forward
 * with the state backward needs, and backward from it. Flat, contiguous,
 * aligned arrays of n elements; _f64 for float64, _f32 for float32. Each
 * element is computed alone, so results do not depend on how the caller
 * splits the range across threads. */
#ifndef CNET_ACTIVATION_H
#define CNET_ACTIVATION_H

#include <stddef.h>

/* mask[i] OUT = x[i] <= 0; out[i] OUT = 0 where mask[i], else x[i] (NaN passes,
 * -0.0 becomes 0, as the book's out[x <= 0] = 0). x IN. */
void relu_forward_f64(const double *x, double *out, unsigned char *mask, size_t n);
void relu_forward_f32(const float *x, float *out, unsigned char *mask, size_t n);

/* The dense layer's bias and the Relu after it, in place on the product:
 * z (rows, cols) C-contiguous IN/OUT becomes z + b (b (cols) IN, one
 * rounding, as the book's np.dot(x, W) + b), then mask OUT (z's shape) = that
 * sum <= 0 and z = 0 where masked (relu_forward's rule). */
void bias_relu_forward_f64(double *z, const double *b, unsigned char *mask, size_t rows,
                           size_t cols);
void bias_relu_forward_f32(float *z, const float *b, unsigned char *mask, size_t rows,
                           size_t cols);

/* dout[i] IN/OUT = 0 where mask[i] IN (the book's dout[mask] = 0). */
void relu_backward_f64(double *dout, const unsigned char *mask, size_t n);
void relu_backward_f32(float *dout, const unsigned char *mask, size_t n);

/* dx[i] OUT = dout[i] * (1.0 - out[i]) * out[i], rounded as the book's
 * left-to-right product; dout, out IN. */
void sigmoid_backward_f64(const double *dout, const double *out, double *dx, size_t n);
void sigmoid_backward_f32(const float *dout, const float *out, float *dx, size_t n);

/* The book's Dropout: mask[i] OUT = r[i] > ratio, out[i] OUT = x[i] * mask[i]
 * (the mask read as 1.0 or 0.0, as NumPy multiplies by a bool array, so 0 *
 * inf is NaN as in the book); x, r (np.random.rand's draws, float64) IN. */
void dropout_forward_f64(const double *x, const double *r, double ratio, double *out,
                         unsigned char *mask, size_t n);
void dropout_forward_f32(const float *x, const double *r, double ratio, float *out,
                         unsigned char *mask, size_t n);

/* dx[i] OUT = dout[i] * mask[i] (mask read as 1.0 or 0.0); dout, mask IN. */
void mask_multiply_f64(const double *dout, const unsigned char *mask, double *dx, size_t n);
void mask_multiply_f32(const float *dout, const unsigned char *mask, float *dx, size_t n);

#endif
