/* The one test for inf and NaN that kernels skipping zero products share:
 * 0 * w is NaN for a non-finite w, so a kernel that leaves zeros out must
 * first know that none of its weights is inf or NaN.
 *
 * cnet_any_nonfinite_f64(n, v) / _f32: 1 when any of v[0..n) (IN) is inf or
 * NaN, else 0. */
#ifndef CNET_NONFINITE_H
#define CNET_NONFINITE_H

#include "cnet_common.h" /* CNET_INLINE */

#define CNET_TEMPLATE "nonfinite_impl.h"
#include "float_kinds.h"
#undef CNET_TEMPLATE

#endif
