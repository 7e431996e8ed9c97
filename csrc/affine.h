/* Kernels of the fully connected layer (the book's Affine), by operation.
 *
 * Dimensions: NB batch rows, NI inputs per row, NO outputs per row (not B, I,
 * O: complex.h, which Cython includes, defines I).
 * Suffixes: _x<X>_w<W> with X the input's and W the weights' (and compute)
 * type, f float32, d float64. Every output element is summed in ascending
 * index order by one thread, so results do not depend on the thread count.
 * Products are not contracted into fused multiply-adds: every SIMD path gives
 * the same bits.
 */
#ifndef CNET_AFFINE_H
#define CNET_AFFINE_H

#include <stddef.h>
#include <stdint.h>
#include "cnet_common.h"

/* Rows of x per call of affine_forward_chunk_* (the rows that share each
 * block of W read into L1), and rows per dense register tile within it. */
#define CNET_AFFINE_RC 16
#define CNET_AFFINE_RB 4

/* Vectors per output tile of affine_rows_times_* (its Op is a multiple of
 * them). */
#define CNET_AFFINE_OV 3

/* The widest block of columns affine_grad_w_rows_* takes (its sblk). */
#define CNET_AFFINE_MAX_SBLK 128

/* Batches of x of more bytes than this are worth prefetching ahead of the
 * chunk that reads them (affine_forward_chunk_*'s pf). */
#define CNET_AFFINE_PF_BYTES ((size_t)1 << 20)

/* The epilogue of affine_forward_chunk_*: out = a + b, or ReLU of it (with
 * the Relu layer's mask), or sigmoid of it (the chapter-4 hidden layer). */
enum { CNET_AFFINE_BIAS = 0, CNET_AFFINE_BIAS_RELU = 1, CNET_AFFINE_BIAS_SIGMOID = 2 };

/* Width in bytes of the kernels' register-tile vectors: 32 (AVX, or two NEON
 * registers), except in x86 code built for SSE only with no AVX clones,
 * whose 16 registers cannot hold a tile of 32-byte vectors (the spills made
 * it five times slower). Every width gives the same bits. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__AVX__) && !defined(CNET_DISPATCHED)
#define CNET_AFFINE_VBYTES 16
#else
#define CNET_AFFINE_VBYTES 32
#endif
#endif

#define CNET_AFFINE_DECLARE(XT, WT, SUF)                                                   \
    void affine_forward_chunk_##SUF(ptrdiff_t R, const XT *x, ptrdiff_t xs, const WT *W,   \
                                    ptrdiff_t ldw, const WT *b, WT *out,                  \
                                    unsigned char *mask, ptrdiff_t NI, ptrdiff_t NO,       \
                                    int epilogue, int all, int32_t *idx, XT *xval,         \
                                    ptrdiff_t *n, int32_t *starts, ptrdiff_t sblk,         \
                                    WT *val, const char *pf, const char *pf_end);          \
    void affine_row_lists_##SUF(ptrdiff_t R, const XT *x, ptrdiff_t xs, ptrdiff_t NI,     \
                                int all, int32_t *idx, XT *xval, ptrdiff_t *n,            \
                                int32_t *starts, ptrdiff_t sblk);                         \
    void affine_grad_w_rows_##SUF(ptrdiff_t G, ptrdiff_t NI, ptrdiff_t NO, ptrdiff_t q,   \
                                  ptrdiff_t sblk, const int32_t *rl, const XT *rv,        \
                                  const int32_t *rs, const WT *dout, ptrdiff_t ldd,       \
                                  WT *dW, int32_t *lidx, WT *lval, ptrdiff_t cap,         \
                                  int add);                                               \
    void affine_dx_rows_##SUF(ptrdiff_t R, ptrdiff_t NI, ptrdiff_t NO, const WT *dout,     \
                              ptrdiff_t ldd, const WT *Wt, ptrdiff_t ldt,                \
                              const int32_t *iota, WT *dx, ptrdiff_t ldx);               \
    void affine_rows_times_##SUF(ptrdiff_t nq, ptrdiff_t n, const WT *const *a,           \
                                 ptrdiff_t as, const WT *V, ptrdiff_t Op, WT *out);      \
    void affine_grad_b_##SUF(const WT *dout, ptrdiff_t ldd, WT *db, ptrdiff_t NB,         \
                              ptrdiff_t NO);                                            \
    void affine_column_counts_##SUF(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI, \
                                    int skip_zeros, int *cstart);                         \
    void affine_column_lists_##SUF(const XT *x, ptrdiff_t xs, ptrdiff_t NB, ptrdiff_t NI,  \
                                   int skip_zeros, const int *cstart, int *crow, XT *cval, \
                                   int *pos, int *idx, XT *val);

CNET_AFFINE_DECLARE(float, double, xf_wd)
CNET_AFFINE_DECLARE(double, double, xd_wd)
CNET_AFFINE_DECLARE(float, float, xf_wf)

#undef CNET_AFFINE_DECLARE

#endif
