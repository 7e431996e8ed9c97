/* Kernels of the book's common/functions.py: activations, softmax and the
 * pieces of the losses, for float64, float32 and IEEE half (float16, carried
 * as its uint16_t bit pattern, computed in float with each step of the
 * book's formula rounded to half as NumPy rounds it).
 *
 * Every kernel is serial and works on pointers + sizes; the caller (Cython)
 * splits the work into fixed blocks across threads, so each output element,
 * and each block partial of a reduction, is computed by the same code
 * whatever the thread count. Strides are in elements, not bytes.
 */
#ifndef CNET_FUNCTIONS_H
#define CNET_FUNCTIONS_H

#include <math.h>
#include <string.h>
#include "cnet_common.h"

/* Elementwise operations of cnet_unary_*. */
enum cnet_unary_op {
    CNET_SIGMOID = 0,      /* 1 / (1 + exp(-x)) */
    CNET_SIGMOID_GRAD = 1, /* (1 - sigmoid(x)) * sigmoid(x) */
    CNET_RELU = 2,         /* max(0, x); NaN and -0.0 pass through as np.maximum(0, x) */
    CNET_RELU_GRAD = 3     /* 1 where x >= 0, else 0 (NaN gives 0) */
};

/* IEEE half (bits) to float: exact. */
CNET_INLINE float cnet_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    float f;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13); /* inf, or NaN keeping its payload */
    } else if (e == 0) {
        f = (float)m * 5.9604644775390625e-8f; /* subnormal: m * 2^-24, exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else {
        bits = sign | ((e + 112u) << 23) | (m << 13);
    }
    memcpy(&f, &bits, 4);
    return f;
}

/* float to IEEE half (bits), rounding to nearest even as NumPy's astype does. */
CNET_INLINE uint16_t cnet_float_to_half(float f)
{
    uint32_t x, sign, absx, h, rem;
    memcpy(&x, &f, 4);
    sign = (x >> 16) & 0x8000u;
    absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf, NaN (kept quiet, top payload bits kept) */
        return (uint16_t)(sign | 0x7c00u |
                          (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0u));
    if (absx >= 0x477ff000u) /* >= 65520 rounds past the largest half, 65504 */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) { /* below 2^-14: a half subnormal, or zero */
        uint32_t e = absx >> 23, m, shift, halfway;
        if (absx <= 0x33000000u) /* <= 2^-25: ties to the even zero */
            return (uint16_t)sign;
        m = (absx & 0x7fffffu) | 0x800000u;
        shift = 126u - e; /* value in units of 2^-24 is m >> shift; e in 102..112 */
        h = m >> shift;
        rem = m & ((1u << shift) - 1u);
        halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }
    h = (absx - 0x38000000u) >> 13; /* rebias the exponent from 127 to 15 */
    rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is the correct rounding */
    return (uint16_t)(sign | h);
}

/* Helpers that must be inlined into each SIMD clone of their callers, to run
 * with that clone's instruction set. */
#if defined(__GNUC__)
#define CNET_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define CNET_ALWAYS_INLINE CNET_INLINE
#endif

/* --- exp --------------------------------------------------------------------
 * exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2 / 2. exp(r) is its
 * Taylor series: for float64 to degree 13 (next term < 5e-18 relative), for
 * float32 to degree 8 evaluated in double (next term < 3e-10), so both stay
 * within 1 ulp. Overflow gives +inf, underflow 0 (subnormals kept), NaN
 * stays NaN. Written without branches or tables so that loops calling it
 * vectorise; GCC needs -fno-trapping-math (or the pragma at the top of
 * functions.c) in the including file to if-convert the clamps. */

#define CNET_LOG2E 0x1.71547652b82fep+0
#define CNET_LN2_HI 0x1.62e42feep-1        /* few bits: n * LN2_HI is exact */
#define CNET_LN2_LO 0x1.a39ef35793c76p-33
#define CNET_ROUND_SHIFT 0x1.8p52          /* adding it rounds to an integer */

CNET_INLINE int64_t cnet_bits_f64(double d)
{
    int64_t i;
    memcpy(&i, &d, 8);
    return i;
}

CNET_INLINE double cnet_from_bits_f64(int64_t i)
{
    double d;
    memcpy(&d, &i, 8);
    return d;
}

/* 2^k for an integer-valued double k in [-1022, 1023] (for a NaN k, some
 * number: the caller's result is NaN anyway). Unsigned: no overflow. */
CNET_INLINE double cnet_pow2i(double k)
{
    uint64_t ki = (uint64_t)cnet_bits_f64(k + CNET_ROUND_SHIFT) -
                  (uint64_t)cnet_bits_f64(CNET_ROUND_SHIFT);
    return cnet_from_bits_f64((int64_t)((ki + 1023u) << 52));
}

CNET_ALWAYS_INLINE double cnet_exp_inline_f64(double x)
{
    double xc, n, n1, r, r2, r4, p;
    /* Clamp so that n stays in range; the quiet comparisons keep NaN, which
     * then flows through r. Past the clamps the result is already inf
     * (x > 709.79) or 0 (x < -745.2). */
    xc = isgreater(x, 710.0) ? 710.0 : x;
    xc = isless(xc, -746.0) ? -746.0 : xc;
    r = xc;
    n = (xc * CNET_LOG2E + CNET_ROUND_SHIFT) - CNET_ROUND_SHIFT;
    r = (r - n * CNET_LN2_HI) - n * CNET_LN2_LO;
    /* p = sum_k r^k / (k + 2)! for k = 0..11 by Estrin's scheme: 5 dependent
     * multiply-adds deep instead of Horner's 11, so the core overlaps more
     * of the exps of a loop (exp was bound by that chain's latency). */
    r2 = r * r;
    r4 = r2 * r2;
    p = ((1.0 / 2.0 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0))) +
        r4 * ((1.0 / 720.0 + r * (1.0 / 5040.0)) + r2 * (1.0 / 40320.0 + r * (1.0 / 362880.0))) +
        (r4 * r4) * ((1.0 / 3628800.0 + r * (1.0 / 39916800.0)) +
                     r2 * (1.0 / 479001600.0 + r * (1.0 / 6227020800.0)));
    p = 1.0 + (r + r2 * p);
    /* 2^n in two factors so that both are normal numbers: the first product
     * is exact and the second rounds once, also into the subnormal range. */
    n1 = (n * 0.5 + CNET_ROUND_SHIFT) - CNET_ROUND_SHIFT;
    return (p * cnet_pow2i(n1)) * cnet_pow2i(n - n1);
}

CNET_ALWAYS_INLINE float cnet_exp_inline_f32(float x)
{
    double xc, n, r, p;
    xc = isgreater(x, 100.0f) ? 100.0 : (double)x; /* exp(100) overflows float */
    xc = isless(xc, -110.0) ? -110.0 : xc;          /* exp(-110) rounds to 0 */
    r = xc;
    n = (xc * CNET_LOG2E + CNET_ROUND_SHIFT) - CNET_ROUND_SHIFT;
    r = (r - n * CNET_LN2_HI) - n * CNET_LN2_LO;
    p = 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = 1.0 + (r + (r * r) * p);
    return (float)(p * cnet_pow2i(n)); /* |n| <= 159: 2^n is a normal double */
}

/* The same, as functions (for tests through cnet._functions.exp). */
double cnet_exp_f64(double x);
float cnet_exp_f32(float x);

/* y[i*ys] = op(x[i*xs]) for i < n (x, y: n elements, may be the same array). */
void cnet_unary_f64(int op, const double *x, ptrdiff_t xs, double *y, ptrdiff_t ys, size_t n);
void cnet_unary_f32(int op, const float *x, ptrdiff_t xs, float *y, ptrdiff_t ys, size_t n);
void cnet_unary_f16(int op, const uint16_t *x, ptrdiff_t xs, uint16_t *y, ptrdiff_t ys,
                    size_t n);

/* Softmax of R rows of C: x (R, C) strides (xrs, xcs) IN, y (R, C) strides
 * (yrs, ycs) OUT. y[r, j] = exp(x[r, j] - max_r) / sum_j exp(x[r, j] - max_r). */
void cnet_softmax_f64(const double *x, ptrdiff_t xrs, ptrdiff_t xcs, double *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C);
void cnet_softmax_f32(const float *x, ptrdiff_t xrs, ptrdiff_t xcs, float *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C);
void cnet_softmax_f16(const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs, uint16_t *y,
                      ptrdiff_t yrs, ptrdiff_t ycs, size_t R, size_t C);

/* The pieces of one long row (C,), for splitting it across threads:
 * cnet_row_max_*: max of x IN (NaN if any is NaN); cnet_softmax_block_*: for
 * C <= CNET_REDUCE_BLOCK, y = exp(x - m) OUT and its sum (returned), summed
 * as inside cnet_softmax_*; cnet_row_div_*: y /= s IN/OUT. A row cut into
 * blocks of CNET_REDUCE_BLOCK, its block sums added in order, gives the bits
 * of cnet_softmax_*. */
double cnet_row_max_f64(const double *x, ptrdiff_t xcs, size_t C);
float cnet_row_max_f32(const float *x, ptrdiff_t xcs, size_t C);
double cnet_softmax_block_f64(const double *x, ptrdiff_t xcs, double *y, ptrdiff_t ycs,
                              size_t C, double m);
float cnet_softmax_block_f32(const float *x, ptrdiff_t xcs, float *y, ptrdiff_t ycs,
                             size_t C, float m);
void cnet_row_div_f64(double *y, ptrdiff_t ycs, size_t C, double s);
void cnet_row_div_f32(float *y, ptrdiff_t ycs, size_t C, float s);

/* Sum over R rows of the book's cross-entropy term of softmax(x[r])[lab[r]]:
 * x (R, C) strides (xrs, xcs) IN, lab (R,) IN with every entry in [0, C).
 * Row by row, in order, terms as cnet_ce_term_* gives them for the value
 * cnet_softmax_* writes at (r, lab[r]): the same sum, bit for bit, as forming
 * softmax(x) first and adding its terms in row order. */
double cnet_softmax_ce_sum_f64(const double *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C);
double cnet_softmax_ce_sum_f32(const float *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C);
double cnet_softmax_ce_sum_f16(const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs,
                               const ptrdiff_t *lab, size_t R, size_t C);

/* The book's cross-entropy term of one picked probability p: log(p + 1e-7),
 * with 1e-7 and the result rounded to the working type as NumPy does. */
CNET_INLINE double cnet_ce_term_f64(double p) { return log(p + 1e-7); }
float cnet_ce_term_f32(float p);
float cnet_ce_term_f16(float p);

#endif
