/* Max pooling forward and backward, one (n, c) plane per call, for float64 and
 * float32 (the book's common/layers.py Pooling; dimension letters in
 * im2col.h, with FH, FW the window). Windows are read in the book's order
 * (ky, then kx) and cells of the padding count as zeros, as in the book's
 * im2col. Window index k = ky*FW + kx.
 */
#ifndef CNET_POOLING_H
#define CNET_POOLING_H

#include <stddef.h>
#include <stdint.h>
#include "cnet_common.h"
#include "im2col.h"

/* Windows of up to this many cells find their cells in a table. */
#define CNET_POOL_TABLE 64

/* out[oy, ox] = max of the window, argmax[oy, ox] = the window index of its
 * first maximum (a NaN counts as the maximum, as np.argmax and np.max treat
 * it). x: (H, W) plane, row stride xrs, IN. out, argmax: contiguous
 * (OH, OW), OUT. */
void cnet_pool_forward_plane_f64(const cnet_conv_geom *g, const double *x, ptrdiff_t xrs,
                                 double *out, int32_t *argmax);
void cnet_pool_forward_plane_f32(const cnet_conv_geom *g, const float *x, ptrdiff_t xrs,
                                 float *out, int32_t *argmax);

/* dx = 0, then dout[oy, ox] added at each window's argmax cell, windows taken
 * last to first so that a cell shared by overlapping windows sums in the
 * book's col2im order. dout, argmax: contiguous (OH, OW), IN. dx: contiguous
 * (H, W), OUT. */
void cnet_pool_backward_plane_f64(const cnet_conv_geom *g, const double *dout,
                                  const int32_t *argmax, double *dx);
void cnet_pool_backward_plane_f32(const cnet_conv_geom *g, const float *dout,
                                  const int32_t *argmax, float *dx);

#endif
