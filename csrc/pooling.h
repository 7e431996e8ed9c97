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
/* Windows of a row handled together by the no-padding forward pass. */
#define CNET_POOL_ROW 64
/* Cells of the vertical pass of one block of rows in the 2x2, stride-2
 * forward pass (at least CNET_POOL_ROW: its scratch serves both). */
#define CNET_POOL2_CELLS 512

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

/* The ReLU and max pooling that follow a convolution, fused into the layout
 * pass of its chunk (cnet.layers.convolution). The convolution's output
 * plane of image n and one filter f is outT[n*P .. n*P + P) with P = H*W
 * (g describes the pooling over that plane; pad must be 0). Forward: each
 * cell read as the book's Relu of (cell + b), pooled into out/argmax as
 * cnet_pool_forward_plane does. outT: row f of the (FN, nb*P) product, IN.
 * out, argmax: element (0, f, 0) of contiguous (nb, FN, OH*OW) blocks, OUT. */
void cnet_pool_conv_rows_forward_f64(const cnet_conv_geom *g, const double *outT, double b,
                                     double *out, int32_t *argmax, ptrdiff_t nb,
                                     ptrdiff_t FN);
void cnet_pool_conv_rows_forward_f32(const cnet_conv_geom *g, const float *outT, float b,
                                     float *out, int32_t *argmax, ptrdiff_t nb,
                                     ptrdiff_t FN);

/* Backward of the same: doutT's row segment of image n is pooling's
 * backward of dout, with the ReLU's zeros where the pooled maximum out is
 * <= 0 (NaN passes); db is the sum of doutT's row (conv.h's row sums).
 * dout, argmax, out: element (0, f, 0) of contiguous (nb, FN, OH*OW)
 * blocks, IN. doutT: row f of (FN, nb*P), OUT. masked: OH*OW elements of
 * scratch. */
void cnet_pool_conv_rows_backward_f64(const cnet_conv_geom *g, const double *dout,
                                      const int32_t *argmax, const double *out,
                                      double *doutT, double *masked, ptrdiff_t nb,
                                      ptrdiff_t FN);
void cnet_pool_conv_rows_backward_f32(const cnet_conv_geom *g, const float *dout,
                                      const int32_t *argmax, const float *out,
                                      float *doutT, float *masked, ptrdiff_t nb,
                                      ptrdiff_t FN);

#endif
