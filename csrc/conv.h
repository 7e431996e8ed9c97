/* The layout steps around the convolution's matrix products, for float64 and
 * float32 (dimension letters in im2col.h; nb is the images of one chunk).
 *
 * The layer multiplies W (FN, K) by a column matrix in the transposed layout
 * (K, nb*P), giving outT (FN, nb*P); these kernels turn outT into the book's
 * (nb, FN, OH, OW) output with the bias added, and an incoming gradient dout
 * (nb, FN, OH, OW) into doutT (FN, nb*P) while summing db. Each call handles
 * one filter f; the caller spreads the FN filters over threads.
 */
#ifndef CNET_CONV_H
#define CNET_CONV_H

#include <stddef.h>
#include "cnet_common.h"

/* out[n, f, p] = outT[f, n*P + p] + b[f] for n < nb, p < P; with relu set,
 * values <= 0 become 0 as the book's Relu does (NaN passes).
 * outT: row f, IN. out: element (0, f, 0) of a contiguous (nb, FN, P) block,
 * OUT. */
void cnet_conv_bias_out_f64(const double *outT, double b, double *out, ptrdiff_t nb,
                            ptrdiff_t FN, ptrdiff_t P, int relu);
void cnet_conv_bias_out_f32(const float *outT, float b, float *out, ptrdiff_t nb,
                            ptrdiff_t FN, ptrdiff_t P, int relu);

/* doutT[f, n*P + p] = dout[n, f, p] and *db += each of them, in (n, p) order
 * (start *db at -0.0, the identity of IEEE addition, for a plain sum). With
 * relu_out given (the layer's output after a fused ReLU), entries where
 * relu_out <= 0 count as 0: the book's Relu backward, fused.
 * dout, relu_out (or NULL): element (0, f, 0) of contiguous (nb, FN, P)
 * blocks, IN. doutT: row f, OUT. db: IN/OUT. */
void cnet_conv_dout_rows_f64(const double *dout, const double *relu_out, double *doutT,
                             double *db, ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P);
void cnet_conv_dout_rows_f32(const float *dout, const float *relu_out, float *doutT,
                             float *db, ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P);

#endif
