/* The layout steps around the convolution's matrix products, for float64 and
 * float32 (dimension letters in im2col.h; nb is the images of one chunk).
 *
 * The layer multiplies W (FN, K) by a column matrix in the transposed layout
 * (K, nb*P), giving outT (FN, nb*P) (cnet_conv_gemm below); these kernels turn outT into the book's
 * (nb, FN, OH, OW) output with the bias added, and an incoming gradient dout
 * (nb, FN, OH, OW) into doutT (FN, nb*P), whose rows summed give db. Each
 * layout call handles one filter f; the caller spreads the FN filters over
 * threads.
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

/* doutT[f, n*P + p] = dout[n, f, p]. With relu_out given (the layer's
 * output after a fused ReLU), entries where relu_out <= 0 become 0: the
 * book's Relu backward, fused. dout, relu_out (or NULL): element (0, f, 0)
 * of contiguous (nb, FN, P) blocks, IN. doutT: row f, OUT. */
void cnet_conv_dout_rows_f64(const double *dout, const double *relu_out, double *doutT,
                             ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P);
void cnet_conv_dout_rows_f32(const float *dout, const float *relu_out, float *doutT,
                             ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P);

/* db[f] += doutT[f, j] for j = 0 .. M-1 in that order, for the nf rows
 * f < nf (start db at -0.0 for a plain sum): the book's np.sum(dout,
 * axis=0) over the (N*P, FN) gradient adds its rows in this order. Each sum
 * is a chain of dependent additions; CNET_ROW_SUMS rows are summed side by
 * side so that their chains overlap. doutT: (nf, M), row stride ld, IN.
 * db: (nf,), IN/OUT. */
#define CNET_ROW_SUMS 8
void cnet_conv_row_sums_f64(const double *doutT, ptrdiff_t ld, ptrdiff_t nf, ptrdiff_t M,
                            double *db);
void cnet_conv_row_sums_f32(const float *doutT, ptrdiff_t ld, ptrdiff_t nf, ptrdiff_t M,
                            float *db);

/* C = A·B (M, N, K here are the product's sizes): C[i, j] = -0.0 +
 * A[i, 0]*B[0, j] + A[i, 1]*B[1, j] + ... for i < M, j < N, summed over
 * k < K in that order, each product rounded before it is added (no fused
 * multiply-add): the same bits on every build and SIMD path. The layer's
 * forward product W·col and its dx product Wᵀ·dout. Runs on the calling
 * thread. A: (M, K), row stride lda, IN. B: (K, N), row stride ldb, IN.
 * C: (M, N), row stride ldc, OUT; C must not overlap A or B. path: 0 for the
 * fastest this build and CPU run, or one of CNET_GEMM_* to run at most that
 * one (tests compare the paths); a path whose register tile is wider than N
 * gives way to a narrower one. Returns the path that ran. */
#define CNET_GEMM_PLAIN 1   /* plain loops */
#define CNET_GEMM_BASE 2    /* 16-byte GCC vectors (SSE2, NEON) */
#define CNET_GEMM_AVX2 3
#define CNET_GEMM_AVX512F 4
/* The path cnet_conv_gemm runs for path 0 in this build on this CPU. */
int cnet_conv_gemm_best(void);
int cnet_conv_gemm_f64(const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb,
                       double *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                       int path);
int cnet_conv_gemm_f32(const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                       float *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                       int path);

#endif
