/* The book's chapter-4 numerical gradient of TwoLayerNet, computed
 * incrementally from cached activations (see netgrad.c). */
#ifndef CNET_NETGRAD_H
#define CNET_NETGRAD_H

#include <stddef.h>
#include <stdint.h>

/* Sizes are unnamed below: Python.h's <complex.h> defines I as a macro. */

/* Central difference (h = 1e-4) of the book's loss
 *   L = -sum_b log(softmax(sigmoid(x W1 + b1) W2 + b2)[b, t_b] + 1e-7) / B
 * for every parameter, as TwoLayerNet.numerical_gradient computes it, in steps
 * so that a caller can stop between them (Ctrl-C).
 *
 * x (B, I) row-major, float64 (x_f32 = 0) or float32 (x_f32 = 1), with nnz
 * non-zero entries (NaN counts as non-zero); t (B,) class indices in [0, O),
 * checked by the caller; W1 (I, H), b1 (H), W2 (H, O), b2 (O) float64 values;
 * params_f32 = 1 when the parameters live in float32 arrays, so the perturbed
 * values are rounded the way such arrays store them. All IN, all kept by the
 * handle: they must outlive it.
 *
 * cnet_numgrad_scratch returns the bytes of scratch (any alignment) that
 * cnet_numgrad_new needs for these sizes and up to nthreads threads.
 * cnet_numgrad_new carves the handle from scratch (which must outlive it; the
 * kernels allocate nothing) and lays out x's columns; NULL when x does not
 * hold nnz non-zeros. cnet_numgrad_run
 * computes, in one parallel region, the forward pass of rows [b0, b1), then
 * gW1 rows [c0, c1) (c == I meaning gb1) and gW2 rows [j0, j1) (j == H meaning
 * gb2), OUT: gW1 (I, H), gb1 (H), gW2 (H, O), gb2 (O); any range may be empty,
 * and no gradient row may be asked for before every row's forward pass is
 * done. Every entry is computed by one thread whatever the ranges and thread
 * count: the same bits as one call. */
typedef struct cnet_numgrad cnet_numgrad;
#define CNET_NUMGRAD_CALLER_SCRATCH 1 /* this interface (bench/kernel_ab tells it apart) */
size_t cnet_numgrad_scratch(ptrdiff_t /* B */, ptrdiff_t /* I */, ptrdiff_t /* H */,
                            ptrdiff_t /* O */, ptrdiff_t nnz, int x_f32, int nthreads);
cnet_numgrad *cnet_numgrad_new(const void *x, int x_f32, const intptr_t *t,
                               ptrdiff_t /* B */, ptrdiff_t /* I */, ptrdiff_t /* H */,
                               ptrdiff_t /* O */, ptrdiff_t nnz,
                               const double *W1, const double *b1,
                               const double *W2, const double *b2, int params_f32,
                               int nthreads, void *scratch);
void cnet_numgrad_run(cnet_numgrad *n, ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t c0, ptrdiff_t c1,
                      ptrdiff_t j0, ptrdiff_t j1, double *gW1, double *gb1, double *gW2,
                      double *gb2);

#endif
