/* Kernels of the book's BatchNormalization layer on rows of features.
 *
 * Dimensions: N batch rows (N >= 1), D features per row; x, xc, xn, out,
 * dout, dx are (N, D) C-contiguous, the per-feature arrays (D,). Each kernel
 * works on the columns j0 <= j < j1 only, so a caller may split the columns
 * across threads. Every column's sum starts from its first row and adds the
 * others in ascending order, and every value is computed with the book's
 * NumPy operations in the book's order (no fused multiply-adds): the results
 * are the book's bits, whatever the split. float64.
 */
#ifndef CNET_BATCH_NORM_H
#define CNET_BATCH_NORM_H

#include <stddef.h>

/* Training forward: mu = x.mean(axis=0), xc OUT = x - mu, var = mean of xc**2,
 * std OUT = sqrt(var + eps), xn OUT = xc / std, out OUT = gamma * xn + beta,
 * rmean OUT = momentum * rmean0 + keep * mu and rvar OUT = momentum * rvar0 +
 * keep * var (keep = 1 - momentum, computed by the caller). x, gamma, beta,
 * rmean0, rvar0 IN. */
void bn_forward_train(const double *x, double *xc, double *xn, double *out, double *std,
                      const double *rmean0, const double *rvar0, double *rmean, double *rvar,
                      const double *gamma, const double *beta, double eps, double momentum,
                      double keep, ptrdiff_t N, ptrdiff_t D, ptrdiff_t j0, ptrdiff_t j1);

/* Testing forward: out OUT = gamma * ((x - rmean) / sqrt(rvar + eps)) + beta;
 * x, rmean, rvar, gamma, beta IN; sd (D,) scratch. */
void bn_forward_test(const double *x, double *out, const double *rmean, const double *rvar,
                     const double *gamma, const double *beta, double eps, double *sd,
                     ptrdiff_t N, ptrdiff_t D, ptrdiff_t j0, ptrdiff_t j1);

/* Backward, the book's chain: dbeta OUT = dout.sum(axis=0), dgamma OUT =
 * (xn * dout).sum(axis=0), dxn = gamma * dout, dstd = -((dxn * xc) / (std *
 * std)).sum(axis=0), dvar = 0.5 * dstd / std, dxc = dxn / std + (2.0 / N) * xc
 * * dvar, dx OUT = dxc - dxc.sum(axis=0) / N. dout, xc, xn, std, gamma IN;
 * acc (D,) scratch. */
void bn_backward(const double *dout, const double *xc, const double *xn, const double *std,
                 const double *gamma, double *dx, double *dgamma, double *dbeta, double *acc,
                 ptrdiff_t N, ptrdiff_t D, ptrdiff_t j0, ptrdiff_t j1);

#endif
