/* The one vectorisable exp of cnet (float64 and float32) and the book's
 * cross-entropy log term. Every kernel that needs exp or log takes it from here.
 * Includers must compile with -fno-trapping-math (the pragma at the top of
 * functions.c and two_layer.c) so that GCC if-converts the clamps. */
#ifndef CNET_EXP_LOG_H
#define CNET_EXP_LOG_H

#include <math.h>
#include <string.h>
#include "cnet_common.h"

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

/* 2^k for an integer k in [-1022, 1023], carried as k + 1023 (out of range:
 * some number; the caller's result is then NaN anyway). */
CNET_INLINE double cnet_pow2i_biased_f64(uint64_t k1023)
{
    return cnet_from_bits_f64((int64_t)(k1023 << 52));
}

CNET_ALWAYS_INLINE double cnet_exp_inline_f64(double x)
{
    double xc, t, n, r, r2, r4, p;
    uint64_t n2048, n1;
    /* Clamp so that n stays in range; the quiet comparisons keep NaN, which
     * then flows through r. Past the clamps the result is already inf
     * (x > 709.79) or 0 (x < -745.2). */
    xc = isgreater(x, 710.0) ? 710.0 : x;
    xc = isless(xc, -746.0) ? -746.0 : xc;
    r = xc;
    t = xc * CNET_LOG2E + CNET_ROUND_SHIFT;
    n = t - CNET_ROUND_SHIFT;
    r = (r - n * CNET_LN2_HI) - n * CNET_LN2_LO;
    /* p = sum_k r^k / (k + 2)! for k = 0..11 by Estrin's scheme: a chain of
     * 5 dependent multiply-adds rather than Horner's 11, so that the exps of
     * a loop overlap. */
    r2 = r * r;
    r4 = r2 * r2;
    p = ((1.0 / 2.0 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0))) +
        r4 * ((1.0 / 720.0 + r * (1.0 / 5040.0)) + r2 * (1.0 / 40320.0 + r * (1.0 / 362880.0))) +
        (r4 * r4) * ((1.0 / 3628800.0 + r * (1.0 / 39916800.0)) +
                     r2 * (1.0 / 479001600.0 + r * (1.0 / 6227020800.0)));
    p = 1.0 + (r + r2 * p);
    /* 2^n in two factors so that both are normal numbers: the first product
     * is exact and the second rounds once, also into the subnormal range.
     * n + 2048 (in [972, 3072]) from t's bits, n1 = floor(n / 2) + 1024. */
    n2048 = (uint64_t)cnet_bits_f64(t) - (uint64_t)cnet_bits_f64(CNET_ROUND_SHIFT) + 2048u;
    n1 = n2048 >> 1;
    return (p * cnet_pow2i_biased_f64(n1 - 1u)) * cnet_pow2i_biased_f64(n2048 - n1 - 1u);
}

#define CNET_ROUND_SHIFT_F32 0x1.8p23f
#define CNET_LN2_HI_F32 0.693359375f
#define CNET_LN2_LO_F32 -2.12194440e-4f

/* 2^k for an integer k in [-126, 127], carried as k + 127 (OUT of range:
 * some number; the caller's result is then NaN anyway). */
CNET_INLINE float cnet_pow2i_biased_f32(uint32_t k127)
{
    float out;
    k127 <<= 23;
    memcpy(&out, &k127, 4);
    return out;
}

/* float32 in float arithmetic, so that a vector holds twice the lanes of the
 * float64 one: n = round(x / ln2), r = x - n ln2 in two steps (n * LN2_HI_F32
 * is exact for |n| < 2^15), exp(r) = 1 + r + r^2 P(r) with Cephes' expf
 * minimax coefficients for |r| <= ln2 / 2 (within 2 ulp), and 2^n applied in
 * two normal factors as in float64, so that results in the subnormal range
 * round once. Overflow gives +inf, underflow 0, NaN stays NaN. */
CNET_ALWAYS_INLINE float cnet_exp_inline_f32(float x)
{
    const float shift = CNET_ROUND_SHIFT_F32;
    float xc, t, n, r, p;
    uint32_t tb, sb, n256, n1;
    xc = isgreater(x, 89.0f) ? 89.0f : x;   /* exp(89) overflows float */
    xc = isless(xc, -104.0f) ? -104.0f : xc; /* exp(-104) rounds to 0 */
    t = xc * 0x1.715476p+0f + CNET_ROUND_SHIFT_F32;
    n = t - CNET_ROUND_SHIFT_F32;
    r = (xc - n * CNET_LN2_HI_F32) - n * CNET_LN2_LO_F32;
    p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = 1.0f + (r + (r * r) * p);
    /* n + 256 (in [106, 384]) from t's bits, then 2^n as 2^n1 2^(n - n1),
     * n1 = floor(n / 2): both factors normal, the first product exact */
    memcpy(&tb, &t, 4);
    memcpy(&sb, &shift, 4);
    n256 = tb - sb + 256u;
    n1 = n256 >> 1; /* floor(n / 2) + 128 */
    return (p * cnet_pow2i_biased_f32(n1 - 1u)) * cnet_pow2i_biased_f32(n256 - n1 - 1u);
}

/* The same, as functions (for tests through cnet._functions.exp). */
double cnet_exp_f64(double x);
float cnet_exp_f32(float x);

/* The book's cross-entropy term of one picked probability p: log(p + 1e-7),
 * with 1e-7 and the result rounded to the working type as NumPy does (for
 * float16: 1e-7 is 2^-23, the sum and the log each rounded to half). */
CNET_INLINE double cnet_ce_term_f64(double p) { return log(p + 1e-7); }
CNET_INLINE float cnet_ce_term_f32(float p) { return logf(p + 1e-7f); }
float cnet_ce_term_f16(float p);

#endif
