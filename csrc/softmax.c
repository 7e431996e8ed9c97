/* Softmax rows and the losses built on them (contracts in softmax.h).
 * Compiled as part of functions.c, which sets the floating-point pragmas. */
#include <math.h>

#include "cnet_common.h"
#include "exp_log.h"
#include "half.h"
#include "softmax.h"
#include "softmax_rows.h"

#define T double
#define SUF f64
#define CE_TERM_T cnet_ce_term_f64
#include "softmax_impl.h"
#undef T
#undef SUF
#undef CE_TERM_T

#define T float
#define SUF f32
#define CE_TERM_T cnet_ce_term_f32
#include "softmax_impl.h"
#undef T
#undef SUF
#undef CE_TERM_T

/* --- float16 --------------------------------------------------------------
 * The book's arithmetic with each step rounded to half as NumPy does: x - m,
 * each exp and the row sum are rounded to half; the sum itself is formed in
 * float in the lanes and blocks of the other types. e_j is recomputed for the
 * division rather than stored. */

/* In float16 the book's 1e-7 becomes 2^-23 (the nearest half), p + 1e-7 and
 * the log are each rounded to half. */
float cnet_ce_term_f16(float p)
{
    return cnet_round_half(logf(cnet_round_half(p + 0x1p-23f)));
}

CNET_INLINE float half_row_max(const uint16_t *x, ptrdiff_t xcs, size_t C)
{
    float m = cnet_half_to_float(x[0]);
    int nan = 0;
    size_t j;
    for (j = 0; j < C; j++) {
        float v = cnet_half_to_float(x[(ptrdiff_t)j * xcs]);
        m = v > m ? v : m;
        nan |= v != v;
    }
    return nan ? (float)NAN : m;
}

CNET_INLINE float half_exp_shifted(const uint16_t *x, ptrdiff_t xcs, size_t j, float m)
{
    float d = cnet_round_half(cnet_half_to_float(x[(ptrdiff_t)j * xcs]) - m);
    return cnet_round_half(cnet_exp_inline_f32(d));
}

CNET_INLINE float half_row_sum(const uint16_t *x, ptrdiff_t xcs, size_t C, float m)
{
    float s = 0, acc[CNET_LANES], bs;
    size_t b0, nb, j, k;
    for (b0 = 0; b0 < C; b0 += CNET_REDUCE_BLOCK) {
        const uint16_t *xb = x + (ptrdiff_t)b0 * xcs;
        nb = C - b0 < CNET_REDUCE_BLOCK ? C - b0 : CNET_REDUCE_BLOCK;
        for (k = 0; k < CNET_LANES; k++)
            acc[k] = 0;
        for (j = 0; j + CNET_LANES <= nb; j += CNET_LANES)
            for (k = 0; k < CNET_LANES; k++)
                acc[k] += half_exp_shifted(xb, xcs, j + k, m);
        bs = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; j < nb; j++)
            bs += half_exp_shifted(xb, xcs, j, m);
        s += bs;
    }
    return cnet_round_half(s);
}

void cnet_softmax_f16(size_t R, size_t C, const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs,
                      uint16_t *y, ptrdiff_t yrs, ptrdiff_t ycs)
{
    size_t r, j;
    for (r = 0; r < R; r++, x += xrs, y += yrs) {
        float m = half_row_max(x, xcs, C);
        float s = half_row_sum(x, xcs, C, m);
        for (j = 0; j < C; j++)
            y[(ptrdiff_t)j * ycs] = cnet_float_to_half(half_exp_shifted(x, xcs, j, m) / s);
    }
}

double cnet_softmax_ce_f16(size_t R, size_t C, const uint16_t *x, ptrdiff_t xrs,
                           ptrdiff_t xcs, const ptrdiff_t *lab, double acc)
{
    size_t r;
    for (r = 0; r < R; r++, x += xrs) {
        float m = half_row_max(x, xcs, C);
        float s = half_row_sum(x, xcs, C, m);
        acc += cnet_ce_term_f16(cnet_round_half(half_exp_shifted(x, xcs, (size_t)lab[r], m) / s));
    }
    return acc;
}

double cnet_ce_sum_f16(size_t R, const uint16_t *p, ptrdiff_t prs, ptrdiff_t pcs,
                       const ptrdiff_t *lab, double acc)
{
    size_t r;
    for (r = 0; r < R; r++)
        acc += cnet_ce_term_f16(cnet_half_to_float(p[(ptrdiff_t)r * prs + lab[r] * pcs]));
    return acc;
}
