/* Kernels of the fully connected layer (the book's Affine), by operation.
 *
 * Dimensions: NB batch rows, NI inputs per row, NO outputs per row (not B, I,
 * O: complex.h, which Cython includes, defines I).
 * Suffixes: _x<X>_w<W> with X the input's and W the weights' (and compute)
 * type, f float32, d float64. Every output element is summed in ascending
 * index order by one thread, so results do not depend on the thread count.
 */
#ifndef CNET_AFFINE_H
#define CNET_AFFINE_H

#include <stddef.h>

#define CNET_AFFINE_DECLARE(XT, WT, SUF)                                                   \
    void affine_forward_rows_##SUF(const XT *x, ptrdiff_t xs, const WT *W, const WT *b,   \
                                   WT *out, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t NI,      \
                                   ptrdiff_t NO, int skip_zeros, int relu, int *idx,       \
                                   XT *val, WT *sums);                                    \
    void affine_grad_w_cols_##SUF(const XT *x, ptrdiff_t xs, const WT *dout, WT *dW,      \
                                  ptrdiff_t NB, ptrdiff_t k0, ptrdiff_t k1, ptrdiff_t NO,    \
                                  int skip_zeros);                                        \
    void affine_grad_b_##SUF(const WT *dout, ptrdiff_t ldd, WT *db, ptrdiff_t NB,         \
                              ptrdiff_t NO);                                            \
    void affine_column_counts_##SUF(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI, \
                                    int skip_zeros, int *cstart);                         \
    void affine_column_lists_##SUF(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI,  \
                                   int skip_zeros, const int *cstart, int *crow, XT *cval, \
                                   int *pos, int *idx, XT *val);                          \
    void affine_grad_w_lists_##SUF(const int *cstart, const int *crow, const XT *cval,    \
                                   const WT *dout, WT *dW, ptrdiff_t k0, ptrdiff_t k1,    \
                                   ptrdiff_t NO);

CNET_AFFINE_DECLARE(float, double, xf_wd)
CNET_AFFINE_DECLARE(double, double, xd_wd)
CNET_AFFINE_DECLARE(float, float, xf_wf)

#undef CNET_AFFINE_DECLARE

#endif
