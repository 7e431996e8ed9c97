/* The steps of a softmax row, the book's cross-entropy term of a row and the
 * dy row of SoftmaxWithLoss, written once as inline functions for float64
 * (_f64) and float32 (_f32). Every kernel that forms a softmax row calls these:
 * cnet.functions' softmax and losses (softmax_impl.h), TwoLayerNet's output
 * layer (two_layer_impl.h) and the numerical gradient's forward pass
 * (netgrad.c); inline, so that each is compiled into its caller's SIMD clones.
 *
 * Dimension letters: R rows, C columns (classes). Strides are in elements: a
 * row r is x[r * xrs + j * xcs] for j < C.
 *
 * A row is formed one way: m = max_j x_j, e_j = exp(x_j - m),
 * s = sum_j e_j, y_j = e_j * (1 / s). A NaN entry makes s NaN, so the whole
 * row (and its loss) is NaN as in the book's NumPy, whatever m is. The sum cuts the row
 * into blocks of CNET_REDUCE_BLOCK columns, sums each block in CNET_LANES
 * interleaved partial sums combined in a fixed order and adds the block sums
 * in order, whether the e_j are summed as they are made or after they are
 * stored: every kernel gets the same bits for the same row.
 *
 * Includers compile with -fno-trapping-math so that the exp vectorises
 * (exp_log.h). */
#ifndef CNET_SOFTMAX_ROWS_H
#define CNET_SOFTMAX_ROWS_H

#include <math.h>

#include "cnet_common.h"
#include "exp_log.h"

/* 32-byte vectors of each type (unaligned loads), and lane masks of their
 * comparisons, for the row maximum: GCC and Clang do not vectorise a maximum
 * written with scalar selects (x86's vmaxps differs from it for NaN), so it is
 * written with vector selects; elsewhere (MSVC, or CNET_NO_VECTOR_EXT) plain
 * loops find the same maximum. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
typedef double cnet_sm_vec_f64 __attribute__((vector_size(32), aligned(8)));
typedef int64_t cnet_sm_mask_f64 __attribute__((vector_size(32)));
typedef float cnet_sm_vec_f32 __attribute__((vector_size(32), aligned(4)));
typedef int32_t cnet_sm_mask_f32 __attribute__((vector_size(32)));
#define CNET_SM_VEC 1
#endif

#define T double
#define SUF f64
#define EXP_T cnet_exp_inline_f64
#define CE_TERM_T cnet_ce_term_f64
#include "softmax_rows_impl.h"
#undef T
#undef SUF
#undef EXP_T
#undef CE_TERM_T

#define T float
#define SUF f32
#define EXP_T cnet_exp_inline_f32
#define CE_TERM_T cnet_ce_term_f32
#include "softmax_rows_impl.h"
#undef T
#undef SUF
#undef EXP_T
#undef CE_TERM_T

#endif
