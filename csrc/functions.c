/* Activations, softmax and loss terms of the book's common/functions.py.
 * Contracts are in functions.h. */

/* GCC if-converts (and so vectorises) the clamps in exp only when it may
 * assume floating-point operations do not trap. cnet never enables traps, and
 * the option changes no result. No contraction of a*b + c into a fused
 * multiply-add: the AVX-512F clones would round differently from the others. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include "functions.h"

double cnet_exp_f64(double x) { return cnet_exp_inline_f64(x); }
float cnet_exp_f32(float x) { return cnet_exp_inline_f32(x); }

/* --- elementwise -------------------------------------------------------------
 * The book's formulas, one scalar function each; the contiguous and strided
 * loops below apply the same function to each element. */

CNET_INLINE double sigmoid_f64(double x) { return 1.0 / (1.0 + cnet_exp_inline_f64(-x)); }
CNET_INLINE float sigmoid_f32(float x) { return 1.0f / (1.0f + cnet_exp_inline_f32(-x)); }

CNET_INLINE double sigmoid_grad_f64(double x)
{
    double s = sigmoid_f64(x);
    return (1.0 - s) * s;
}

CNET_INLINE float sigmoid_grad_f32(float x)
{
    float s = sigmoid_f32(x);
    return (1.0f - s) * s;
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
    case CNET_SIGMOID: CNET_UNARY_LOOP(sigmoid_f64); break;
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
    case CNET_SIGMOID: CNET_UNARY_LOOP(sigmoid_f32); break;
    case CNET_SIGMOID_GRAD: CNET_UNARY_LOOP(sigmoid_grad_f32); break;
    case CNET_RELU: CNET_UNARY_LOOP(relu_f32); break;
    case CNET_RELU_GRAD: CNET_UNARY_LOOP(relu_grad_f32); break;
    default: break;
    }
}

/* float16 follows the book's arithmetic step by step, each step rounded to
 * half as NumPy does: exp(-x) overflows half for x < -11.09, giving 0. */
CNET_INLINE float cnet_round_half(float f) { return cnet_half_to_float(cnet_float_to_half(f)); }

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

/* --- softmax -----------------------------------------------------------------
 * Per row: m = max (NaN propagates, as np.max), e_j = exp(x_j - m), y_j = e_j / s
 * with s = sum e_j formed in a fixed way: the row is cut into blocks of
 * CNET_REDUCE_BLOCK columns, each block summed in CNET_LANES interleaved
 * partial sums combined in a fixed order, and the block sums added in order.
 * A long row may so be split across threads (cnet._functions) with the same
 * bits, and the pick functions form s the same way, so softmax_loss
 * reproduces cross_entropy_error(softmax(x)) to the bit. */

#define CNET_LANES 8

/* m = max of LOAD(x[j * S]) over j < C, NaN if any entry is NaN (as np.max):
 * CNET_LANES running maxima and a NaN flag, so that the loop vectorises. */
#define CNET_ROW_MAX(T, LOAD, S)                                              \
    do {                                                                      \
        T mx_[CNET_LANES];                                                    \
        int nan_ = 0;                                                         \
        size_t j0_ = 0, k_;                                                   \
        for (k_ = 0; k_ < CNET_LANES; k_++)                                   \
            mx_[k_] = LOAD(x[0]);                                             \
        for (; j0_ + CNET_LANES <= C; j0_ += CNET_LANES)                      \
            for (k_ = 0; k_ < CNET_LANES; k_++) {                             \
                T v_ = LOAD(x[(ptrdiff_t)(j0_ + k_) * (S)]);                  \
                mx_[k_] = v_ > mx_[k_] ? v_ : mx_[k_];                        \
                nan_ |= v_ != v_;                                             \
            }                                                                 \
        for (; j0_ < C; j0_++) {                                              \
            T v_ = LOAD(x[(ptrdiff_t)j0_ * (S)]);                             \
            mx_[0] = v_ > mx_[0] ? v_ : mx_[0];                               \
            nan_ |= v_ != v_;                                                 \
        }                                                                     \
        m = mx_[0];                                                           \
        for (k_ = 1; k_ < CNET_LANES; k_++)                                   \
            m = mx_[k_] > m ? mx_[k_] : m;                                    \
        if (nan_)                                                             \
            m = (T)NAN;                                                       \
    } while (0)

/* s = sum of E(j) over j < C in CNET_LANES partials combined in a fixed
 * order; E(j) may also store e_j. */
#define CNET_LANE_SUM(T, E)                                                   \
    do {                                                                      \
        T acc_[CNET_LANES] = {0};                                             \
        size_t j0_ = 0, k_;                                                   \
        for (; j0_ + CNET_LANES <= C; j0_ += CNET_LANES)                      \
            for (k_ = 0; k_ < CNET_LANES; k_++)                               \
                acc_[k_] += E(j0_ + k_);                                      \
        s = ((acc_[0] + acc_[1]) + (acc_[2] + acc_[3])) +                     \
            ((acc_[4] + acc_[5]) + (acc_[6] + acc_[7]));                      \
        for (; j0_ < C; j0_++)                                                \
            s += E(j0_);                                                      \
    } while (0)

#define CNET_ID(v) (v)

/* Row pieces for float64 and float32 (T, SUF; exp is EXP_), each with a contiguous
 * loop (vectorised) and a strided one:
 *   row_max:   max of x (C,), as np.max;
 *   block_sum: sum of e_j = exp(x_j - m) over one block (C <= CNET_REDUCE_BLOCK),
 *              storing e_j in y when y is not NULL;
 *   row_sum:   the block sums of a whole row, added in order;
 *   row_div:   y_j /= s. */
#define CNET_ROW_PIECES(T, SUF)                                               \
    CNET_ALWAYS_INLINE T row_max_##SUF(const T *x, ptrdiff_t xcs, size_t C)   \
    {                                                                         \
        T m;                                                                  \
        if (xcs == 1)                                                         \
            CNET_ROW_MAX(T, CNET_ID, 1);                                      \
        else                                                                  \
            CNET_ROW_MAX(T, CNET_ID, xcs);                                    \
        return m;                                                             \
    }                                                                         \
                                                                              \
    CNET_ALWAYS_INLINE T block_sum_##SUF(const T *x, ptrdiff_t xcs, T *y,     \
                                         ptrdiff_t ycs, size_t C, T m)        \
    {                                                                         \
        T s;                                                                  \
        if (y == NULL && xcs == 1) {                                          \
            CNET_LANE_SUM(T, E_ONLY_C);                                       \
        } else if (y == NULL) {                                               \
            CNET_LANE_SUM(T, E_ONLY_S);                                       \
        } else if (xcs == 1 && ycs == 1) {                                    \
            CNET_LANE_SUM(T, E_STORE_C);                                      \
        } else {                                                              \
            CNET_LANE_SUM(T, E_STORE_S);                                      \
        }                                                                     \
        return s;                                                             \
    }                                                                         \
                                                                              \
    CNET_ALWAYS_INLINE T row_sum_##SUF(const T *x, ptrdiff_t xcs, T *y,       \
                                       ptrdiff_t ycs, size_t C, T m)          \
    {                                                                         \
        T s = 0;                                                              \
        size_t b0;                                                            \
        for (b0 = 0; b0 < C; b0 += CNET_REDUCE_BLOCK) {                       \
            size_t nb = C - b0 < CNET_REDUCE_BLOCK ? C - b0 : CNET_REDUCE_BLOCK; \
            s += block_sum_##SUF(x + (ptrdiff_t)b0 * xcs, xcs,                \
                                 y ? y + (ptrdiff_t)b0 * ycs : NULL, ycs, nb, m); \
        }                                                                     \
        return s;                                                             \
    }                                                                         \
                                                                              \
    CNET_ALWAYS_INLINE void row_div_##SUF(T *y, ptrdiff_t ycs, size_t C, T s) \
    {                                                                         \
        size_t j;                                                             \
        if (ycs == 1)                                                         \
            for (j = 0; j < C; j++)                                           \
                y[j] = y[j] / s;                                              \
        else                                                                  \
            for (j = 0; j < C; j++)                                           \
                y[(ptrdiff_t)j * ycs] = y[(ptrdiff_t)j * ycs] / s;            \
    }

#define E_ONLY_C(j) EXP_(x[(j)] - m)
#define E_ONLY_S(j) EXP_(x[(ptrdiff_t)(j) * xcs] - m)
#define E_STORE_C(j) (y[(j)] = EXP_(x[(j)] - m))
#define E_STORE_S(j) (y[(ptrdiff_t)(j) * ycs] = EXP_(x[(ptrdiff_t)(j) * xcs] - m))
#define EXP_ cnet_exp_inline_f64
CNET_ROW_PIECES(double, f64)
#undef EXP_
#define EXP_ cnet_exp_inline_f32
CNET_ROW_PIECES(float, f32)
#undef EXP_

CNET_DISPATCH
void cnet_softmax_f64(const double *x, ptrdiff_t xrs, ptrdiff_t xcs, double *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r;
    if (C == 0)
        return;
    for (r = 0; r < R; r++, x += xrs, y += yrs)
        row_div_f64(y, ycs, C, row_sum_f64(x, xcs, y, ycs, C, row_max_f64(x, xcs, C)));
}

CNET_DISPATCH
void cnet_softmax_f32(const float *x, ptrdiff_t xrs, ptrdiff_t xcs, float *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r;
    if (C == 0)
        return;
    for (r = 0; r < R; r++, x += xrs, y += yrs)
        row_div_f32(y, ycs, C, row_sum_f32(x, xcs, y, ycs, C, row_max_f32(x, xcs, C)));
}

/* The pieces of one long row, for splitting it across threads. */
CNET_DISPATCH
double cnet_row_max_f64(const double *x, ptrdiff_t xcs, size_t C)
{
    return row_max_f64(x, xcs, C);
}

CNET_DISPATCH
float cnet_row_max_f32(const float *x, ptrdiff_t xcs, size_t C)
{
    return row_max_f32(x, xcs, C);
}

CNET_DISPATCH
double cnet_softmax_block_f64(const double *x, ptrdiff_t xcs, double *y, ptrdiff_t ycs,
                              size_t C, double m)
{
    return block_sum_f64(x, xcs, y, ycs, C, m);
}

CNET_DISPATCH
float cnet_softmax_block_f32(const float *x, ptrdiff_t xcs, float *y, ptrdiff_t ycs,
                             size_t C, float m)
{
    return block_sum_f32(x, xcs, y, ycs, C, m);
}

CNET_DISPATCH
void cnet_row_div_f64(double *y, ptrdiff_t ycs, size_t C, double s)
{
    row_div_f64(y, ycs, C, s);
}

CNET_DISPATCH
void cnet_row_div_f32(float *y, ptrdiff_t ycs, size_t C, float s)
{
    row_div_f32(y, ycs, C, s);
}

/* float16 rows: x - m, each exp and the row sum are rounded to half as in
 * NumPy; e_j is recomputed for the division rather than stored. */
#define E_HALF(j) \
    cnet_round_half(cnet_exp_inline_f32(cnet_round_half(cnet_half_to_float(x[(ptrdiff_t)(j) * xcs]) - m)))

CNET_INLINE float block_sum_f16(const uint16_t *x, ptrdiff_t xcs, size_t C, float m)
{
    float s;
    CNET_LANE_SUM(float, E_HALF);
    return s;
}

CNET_INLINE float row_sum_f16(const uint16_t *x, ptrdiff_t xcs, size_t C, float m)
{
    float s = 0;
    size_t b0;
    for (b0 = 0; b0 < C; b0 += CNET_REDUCE_BLOCK)
        s += block_sum_f16(x + (ptrdiff_t)b0 * xcs, xcs,
                           C - b0 < CNET_REDUCE_BLOCK ? C - b0 : CNET_REDUCE_BLOCK, m);
    return cnet_round_half(s);
}

void cnet_softmax_f16(const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs, uint16_t *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r, jj;
    for (r = 0; r < R; r++, x += xrs, y += yrs) {
        float m, s;
        if (C == 0)
            break;
        CNET_ROW_MAX(float, cnet_half_to_float, xcs);
        s = row_sum_f16(x, xcs, C, m);
        for (jj = 0; jj < C; jj++)
            y[(ptrdiff_t)jj * ycs] = cnet_float_to_half(E_HALF(jj) / s);
    }
}

/* softmax(x)[k] of one row (C,) without forming the row: the bits
 * cnet_softmax_* writes there (for f16, the half value widened to float). */
CNET_ALWAYS_INLINE double softmax_pick_f64(const double *x, ptrdiff_t xcs, size_t C, size_t k)
{
    double m = row_max_f64(x, xcs, C);
    double s = row_sum_f64(x, xcs, NULL, 0, C, m);
    return cnet_exp_inline_f64(x[(ptrdiff_t)k * xcs] - m) / s;
}

CNET_ALWAYS_INLINE float softmax_pick_f32(const float *x, ptrdiff_t xcs, size_t C, size_t k)
{
    float m = row_max_f32(x, xcs, C);
    float s = row_sum_f32(x, xcs, NULL, 0, C, m);
    return cnet_exp_inline_f32(x[(ptrdiff_t)k * xcs] - m) / s;
}

CNET_INLINE float softmax_pick_f16(const uint16_t *x, ptrdiff_t xcs, size_t C, size_t k)
{
    float m, s;
    CNET_ROW_MAX(float, cnet_half_to_float, xcs);
    s = row_sum_f16(x, xcs, C, m);
    return cnet_round_half(E_HALF(k) / s);
}
#undef E_HALF

/* --- cross-entropy terms ------------------------------------------------- */

float cnet_ce_term_f32(float p) { return logf(p + 1e-7f); }

/* In float16 the book's 1e-7 becomes 2^-23 (the nearest half), p + 1e-7 and
 * the log are each rounded to half. */
float cnet_ce_term_f16(float p)
{
    return cnet_round_half(logf(cnet_round_half(p + 0x1p-23f)));
}

/* --- softmax + cross-entropy ------------------------------------------------ */

#define CNET_SOFTMAX_CE_SUM(T, SUF, TERM)                                     \
    do {                                                                      \
        double acc = 0.0;                                                     \
        size_t r;                                                             \
        for (r = 0; r < R; r++, x += xrs)                                     \
            acc += TERM(softmax_pick_##SUF(x, xcs, C, (size_t)lab[r]));  \
        return acc;                                                           \
    } while (0)

CNET_DISPATCH
double cnet_softmax_ce_sum_f64(const double *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C)
{
    CNET_SOFTMAX_CE_SUM(double, f64, cnet_ce_term_f64);
}

CNET_DISPATCH
double cnet_softmax_ce_sum_f32(const float *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C)
{
    CNET_SOFTMAX_CE_SUM(float, f32, cnet_ce_term_f32);
}

double cnet_softmax_ce_sum_f16(const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C)
{
    CNET_SOFTMAX_CE_SUM(float, f16, cnet_ce_term_f16);
}
