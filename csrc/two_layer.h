/* Fused forward and backward kernels of the book's TwoLayerNet:
 *
 *   a1 = x·W1 + b1,  z1 = sigmoid(a1),  a2 = z1·W2 + b2,  y = softmax(a2)
 *   loss = -sum_b log(y[b, t_b] + 1e-7) / B
 *   dy = (y - t) / B, gW2 = z1ᵀ·dy, gb2 = sum_b dy,
 *   dz1 = (1 - z1) z1 (dy·W2ᵀ), gW1 = xᵀ·dz1, gb1 = sum_b dz1
 *
 * Shapes: x (B,I) with unit column stride and row stride ldx (elements, may be
 * negative), W1 (I,H), b1 (H), W2 (H,O), b2 (O), y (B,O), t (B) class indices
 * already checked to lie in [0, O); all other arrays C-contiguous.
 *
 * Each kernel exists for three (x, weight) type pairs, named by suffix:
 *   _xf_wf  float32 x, float32 weights (computes in float32)
 *   _xf_wd  float32 x, float64 weights (computes in float64; x is read as is)
 *   _xd_wd  float64 x, float64 weights
 * Every row is computed by one thread and every reduction runs in a fixed
 * order, so results do not depend on nthreads (below 1 counts as 1).
 *
 * Scratch: the kernels allocate nothing. Each takes a block of scratch memory
 * (any alignment) of at least tl_forward_scratch (predict, loss, correct) or
 * tl_gradient_scratch bytes for the same B, I, H, O and nthreads, which the
 * caller may keep for later calls: a block allocated and freed on every call
 * (about 1 MB for a 100-image gradient) made glibc hand it back to the system
 * and fault it in again each time, which took longer than the gradient.
 */
#ifndef CNET_TWO_LAYER_H
#define CNET_TWO_LAYER_H

#include <stddef.h>
#include "cnet_common.h"

#define CNET_TL_DECLARE(SUF, XT, WT)                                              \
    size_t tl_forward_scratch##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O, \
                                   int nthreads);                                  \
    size_t tl_gradient_scratch##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H,         \
                                    ptrdiff_t O, int nthreads);                    \
    void tl_predict##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,       \
                         const XT *x, ptrdiff_t ldx, const WT *W1, const WT *b1,   \
                         const WT *W2, const WT *b2, WT *y, int nthreads,          \
                         void *scratch);                                           \
    void tl_loss##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,          \
                      const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,              \
                      const WT *W1, const WT *b1, const WT *W2, const WT *b2,      \
                      WT *loss, int nthreads, void *scratch);                      \
    void tl_correct##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,       \
                         const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,           \
                         const WT *W1, const WT *b1, const WT *W2, const WT *b2,   \
                         ptrdiff_t *count, int nthreads, void *scratch);           \
    void tl_gradient##SUF(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,      \
                          const XT *x, ptrdiff_t ldx, const ptrdiff_t *t,          \
                          const WT *t_dense, const WT *W1, const WT *b1,           \
                          const WT *W2, const WT *b2, WT *gW1, WT *gb1, WT *gW2,   \
                          WT *gb2, int nthreads, void *scratch);

CNET_TL_DECLARE(_xf_wf, float, float)
CNET_TL_DECLARE(_xf_wd, float, double)
CNET_TL_DECLARE(_xd_wd, double, double)

#undef CNET_TL_DECLARE

#endif
