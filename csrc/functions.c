/* Activations, softmax and loss terms of the book's common/functions.py.
 * Contracts are in functions.h. */

/* GCC if-converts (and so vectorises) the clamps in exp only when it may
 * assume floating-point operations do not trap. cnet never enables traps, and
 * the option changes no result. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "functions.h"

/* The row helpers must be inlined into each SIMD clone of their callers to
 * run with that clone's instruction set. */
#if defined(__GNUC__)
#define CNET_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define CNET_ALWAYS_INLINE CNET_INLINE
#endif

#include "cnet_exp.h"

double cnet_exp_f64(double x) { return cnet_exp_inline_f64(x); }
float cnet_exp_f32(float x) { return cnet_exp_inline_f32(x); }

/* --- elementwise -------------------------------------------------------------
 * The book's formulas, one scalar function each; the contiguous loops below
 * apply the same function, so strided and contiguous inputs give the same
 * bits. float16 is computed in float and rounded once. */

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
 * Per row: m = max (NaN propagates, as np.max), e_j = exp(x_j - m), s = sum e_j
 * in 8 interleaved partial sums combined in a fixed order, y_j = e_j / s.
 * The pick functions form s the same way, so softmax_loss reproduces
 * cross_entropy_error(softmax(x)) to the bit. */

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

CNET_DISPATCH
void cnet_softmax_f64(const double *x, ptrdiff_t xrs, ptrdiff_t xcs, double *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r, jj;
    for (r = 0; r < R; r++, x += xrs, y += yrs) {
        double m, s;
        if (C == 0)
            break;
        if (xcs == 1 && ycs == 1) {
            CNET_ROW_MAX(double, CNET_ID, 1);
#define E_STORE(j) (y[(j)] = cnet_exp_inline_f64(x[(j)] - m))
            CNET_LANE_SUM(double, E_STORE);
#undef E_STORE
            for (jj = 0; jj < C; jj++)
                y[jj] = y[jj] / s;
        } else {
            CNET_ROW_MAX(double, CNET_ID, xcs);
#define E_STORE(j) (y[(ptrdiff_t)(j) * ycs] = cnet_exp_inline_f64(x[(ptrdiff_t)(j) * xcs] - m))
            CNET_LANE_SUM(double, E_STORE);
#undef E_STORE
            for (jj = 0; jj < C; jj++)
                y[(ptrdiff_t)jj * ycs] = y[(ptrdiff_t)jj * ycs] / s;
        }
    }
}

CNET_DISPATCH
void cnet_softmax_f32(const float *x, ptrdiff_t xrs, ptrdiff_t xcs, float *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r, jj;
    for (r = 0; r < R; r++, x += xrs, y += yrs) {
        float m, s;
        if (C == 0)
            break;
        if (xcs == 1 && ycs == 1) {
            CNET_ROW_MAX(float, CNET_ID, 1);
#define E_STORE(j) (y[(j)] = cnet_exp_inline_f32(x[(j)] - m))
            CNET_LANE_SUM(float, E_STORE);
#undef E_STORE
            for (jj = 0; jj < C; jj++)
                y[jj] = y[jj] / s;
        } else {
            CNET_ROW_MAX(float, CNET_ID, xcs);
#define E_STORE(j) (y[(ptrdiff_t)(j) * ycs] = cnet_exp_inline_f32(x[(ptrdiff_t)(j) * xcs] - m))
            CNET_LANE_SUM(float, E_STORE);
#undef E_STORE
            for (jj = 0; jj < C; jj++)
                y[(ptrdiff_t)jj * ycs] = y[(ptrdiff_t)jj * ycs] / s;
        }
    }
}

/* float16 rows: x - m, each exp and the row sum are rounded to half as in
 * NumPy; e_j is recomputed for the division rather than stored. */
#define E_HALF(j) \
    cnet_round_half(cnet_exp_inline_f32(cnet_round_half(cnet_half_to_float(x[(ptrdiff_t)(j) * xcs]) - m)))

void cnet_softmax_f16(const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs, uint16_t *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C)
{
    size_t r, jj;
    for (r = 0; r < R; r++, x += xrs, y += yrs) {
        float m, s;
        if (C == 0)
            break;
        CNET_ROW_MAX(float, cnet_half_to_float, xcs);
        CNET_LANE_SUM(float, E_HALF);
        s = cnet_round_half(s);
        for (jj = 0; jj < C; jj++)
            y[(ptrdiff_t)jj * ycs] = cnet_float_to_half(E_HALF(jj) / s);
    }
}

/* Contiguous rows (xcs == 1) get their own loops, which vectorise. */
CNET_ALWAYS_INLINE double cnet_softmax_pick_f64(const double *x, ptrdiff_t xcs, size_t C, size_t k)
{
    double m, s;
    if (xcs == 1) {
        CNET_ROW_MAX(double, CNET_ID, 1);
#define E_ONLY(j) cnet_exp_inline_f64(x[(j)] - m)
        CNET_LANE_SUM(double, E_ONLY);
#undef E_ONLY
    } else {
        CNET_ROW_MAX(double, CNET_ID, xcs);
#define E_ONLY(j) cnet_exp_inline_f64(x[(ptrdiff_t)(j) * xcs] - m)
        CNET_LANE_SUM(double, E_ONLY);
#undef E_ONLY
    }
    return cnet_exp_inline_f64(x[(ptrdiff_t)k * xcs] - m) / s;
}

CNET_ALWAYS_INLINE float cnet_softmax_pick_f32(const float *x, ptrdiff_t xcs, size_t C, size_t k)
{
    float m, s;
    if (xcs == 1) {
        CNET_ROW_MAX(float, CNET_ID, 1);
#define E_ONLY(j) cnet_exp_inline_f32(x[(j)] - m)
        CNET_LANE_SUM(float, E_ONLY);
#undef E_ONLY
    } else {
        CNET_ROW_MAX(float, CNET_ID, xcs);
#define E_ONLY(j) cnet_exp_inline_f32(x[(ptrdiff_t)(j) * xcs] - m)
        CNET_LANE_SUM(float, E_ONLY);
#undef E_ONLY
    }
    return cnet_exp_inline_f32(x[(ptrdiff_t)k * xcs] - m) / s;
}

CNET_ALWAYS_INLINE float cnet_softmax_pick_f16(const uint16_t *x, ptrdiff_t xcs, size_t C, size_t k)
{
    float m, s;
    CNET_ROW_MAX(float, cnet_half_to_float, xcs);
    CNET_LANE_SUM(float, E_HALF);
    s = cnet_round_half(s);
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
            acc += TERM(cnet_softmax_pick_##SUF(x, xcs, C, (size_t)lab[r]));  \
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
