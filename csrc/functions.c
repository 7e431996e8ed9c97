/* The compiled half of cnet._functions: one translation unit holding each
 * operation family's kernels (see functions.h).
 *
 * GCC if-converts (and so vectorises) the clamps in exp only when it may
 * assume floating-point operations do not trap: cnet never enables traps, and
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

#include "elementwise.c"
#include "softmax.c"
#include "sum_squared.c"
