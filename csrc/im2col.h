/* im2col and its adjoint col2im, one image plane at a time, for float64 and
 * float32 (the book's common/util.py, without its Python loop over filter
 * positions).
 *
 * Dimension letters (used in every conv and pooling file of csrc/):
 *   N  images      C  channels      H, W   input height and width
 *   FH, FW filter (or pooling window) height and width
 *   OH, OW output height and width: (H + 2*pad - FH) / stride + 1, floored
 *   P  = OH*OW output positions per image     K = C*FH*FW patch length
 *
 * A column matrix "col" holds element (k, m) at col[k*ks + m*ms], where
 * k = (c*FH + ky)*FW + kx and m = n*P + oy*OW + ox. The book's layout
 * (N*P rows, K columns) is ks = 1, ms = K; the transposed layout the
 * convolution layer multiplies (K rows, N*P columns) is ks = N*P, ms = 1.
 * Strides are in elements. Cells of the padding read as zero.
 *
 * Each kernel is serial and handles one (n, c) plane; the caller spreads the
 * N*C planes over threads. A plane's elements are written by one call only,
 * so results do not depend on the thread count.
 */
#ifndef CNET_IM2COL_H
#define CNET_IM2COL_H

#include <stddef.h>
#include "cnet_common.h"

/* Geometry shared by every plane of one call. */
typedef struct {
    ptrdiff_t H, W, FH, FW, stride, pad, OH, OW;
} cnet_conv_geom;

/* col[(c*FH+ky)*FW+kx, n*P + oy*OW+ox] = x[oy*stride+ky-pad, ox*stride+kx-pad].
 * x: (H, W) plane, row stride xrs, IN. col: points at element (k = c*FH*FW,
 * m = n*P), OUT. */
void cnet_im2col_plane_f64(const cnet_conv_geom *g, const double *x, ptrdiff_t xrs,
                           double *col, ptrdiff_t ks, ptrdiff_t ms);
void cnet_im2col_plane_f32(const cnet_conv_geom *g, const float *x, ptrdiff_t xrs,
                           float *col, ptrdiff_t ks, ptrdiff_t ms);

/* The adjoint: dx = sum of the col entries that im2col would have read from
 * each cell, added in the book's order (ky, then kx, ascending) from 0.
 * col: as above, IN. dx: contiguous (H, W) plane, OUT. */
void cnet_col2im_plane_f64(const cnet_conv_geom *g, const double *col, ptrdiff_t ks,
                           ptrdiff_t ms, double *dx);
void cnet_col2im_plane_f32(const cnet_conv_geom *g, const float *col, ptrdiff_t ks,
                           ptrdiff_t ms, float *dx);

#endif
