/* The book's sum_squared_error as fixed-order partial sums: the squares of
 * (y - t) go, by their position p in a block of CNET_REDUCE_BLOCK elements,
 * into CNET_LANES double accumulators (lane p % CNET_LANES); a block's sum is
 * its lanes combined pairwise in a fixed order, and the block sums are added
 * in block order. Every layout and thread count then gives the same bits.
 * Strides are in elements. */
#ifndef CNET_SUM_SQUARED_H
#define CNET_SUM_SQUARED_H

#include <stddef.h>

/* acc[(k0 + i) % CNET_LANES] += (y[i] - t[i])^2 for i < n, both contiguous:
 * y, t (n,) IN, acc (CNET_LANES,) IN/OUT. float64: the difference and its
 * square in double; float32: in float, as NumPy's float32 arithmetic, each
 * square then added in double. */
void cnet_sse_lanes_f64(size_t n, const double *y, const double *t, double *acc, size_t k0);
void cnet_sse_lanes_f32(size_t n, const float *y, const float *t, double *acc, size_t k0);

#endif
