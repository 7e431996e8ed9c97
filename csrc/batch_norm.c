/* The batch-normalization kernels (contracts in batch_norm.h). Contraction
 * into fused multiply-adds is off: the results keep NumPy's bits. Columns are
 * the inner loop everywhere (rows are contiguous), the per-column sums kept in
 * (D,) arrays while the rows stream by, as NumPy's axis-0 reductions do. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>

#include "cnet_common.h"
#include "batch_norm.h"

CNET_DISPATCH void bn_forward_train(const double *x, double *xc, double *xn, double *out,
                                    double *std, const double *rmean0, const double *rvar0,
                                    double *rmean, double *rvar, const double *gamma,
                                    const double *beta, double eps, double momentum,
                                    double keep, ptrdiff_t N, ptrdiff_t D, ptrdiff_t j0,
                                    ptrdiff_t j1)
{
    ptrdiff_t r, j;
    /* mu, kept in rmean until the end */
    for (j = j0; j < j1; j++)
        rmean[j] = x[j];
    for (r = 1; r < N; r++)
        for (j = j0; j < j1; j++)
            rmean[j] += x[r * D + j];
    for (j = j0; j < j1; j++)
        rmean[j] /= (double)N;
    /* xc and the sum of its squares, kept in rvar */
    for (r = 0; r < N; r++)
        for (j = j0; j < j1; j++) {
            const double c = x[r * D + j] - rmean[j];
            xc[r * D + j] = c;
            if (r == 0)
                rvar[j] = c * c;
            else
                rvar[j] += c * c;
        }
    for (j = j0; j < j1; j++) {
        const double mu = rmean[j], var = rvar[j] / (double)N;
        std[j] = sqrt(var + eps);
        rmean[j] = momentum * rmean0[j] + keep * mu;
        rvar[j] = momentum * rvar0[j] + keep * var;
    }
    for (r = 0; r < N; r++)
        for (j = j0; j < j1; j++) {
            const double n = xc[r * D + j] / std[j];
            xn[r * D + j] = n;
            out[r * D + j] = gamma[j] * n + beta[j];
        }
}

CNET_DISPATCH void bn_forward_test(const double *x, double *out, const double *rmean,
                                   const double *rvar, const double *gamma,
                                   const double *beta, double eps, double *sd, ptrdiff_t N,
                                   ptrdiff_t D, ptrdiff_t j0, ptrdiff_t j1)
{
    ptrdiff_t r, j;
    for (j = j0; j < j1; j++)
        sd[j] = sqrt(rvar[j] + eps);
    for (r = 0; r < N; r++)
        for (j = j0; j < j1; j++)
            out[r * D + j] = gamma[j] * ((x[r * D + j] - rmean[j]) / sd[j]) + beta[j];
}

CNET_DISPATCH void bn_backward(const double *dout, const double *xc, const double *xn,
                               const double *std, const double *gamma, double *dx,
                               double *dgamma, double *dbeta, double *acc, ptrdiff_t N,
                               ptrdiff_t D, ptrdiff_t j0, ptrdiff_t j1)
{
    const double c2 = 2.0 / (double)N;
    ptrdiff_t r, j;
    /* pass 1: dbeta, dgamma and dstd's sum (in acc) */
    for (j = j0; j < j1; j++) {
        const double dxn = gamma[j] * dout[j];
        dbeta[j] = dout[j];
        dgamma[j] = xn[j] * dout[j];
        acc[j] = (dxn * xc[j]) / (std[j] * std[j]);
    }
    for (r = 1; r < N; r++)
        for (j = j0; j < j1; j++) {
            const double d = dout[r * D + j], dxn = gamma[j] * d;
            dbeta[j] += d;
            dgamma[j] += xn[r * D + j] * d;
            acc[j] += (dxn * xc[r * D + j]) / (std[j] * std[j]);
        }
    /* dvar, in acc */
    for (j = j0; j < j1; j++)
        acc[j] = 0.5 * -acc[j] / std[j];
    /* pass 2: dxc into dx */
    for (r = 0; r < N; r++)
        for (j = j0; j < j1; j++) {
            const double dxn = gamma[j] * dout[r * D + j];
            dx[r * D + j] = dxn / std[j] + c2 * xc[r * D + j] * acc[j];
        }
    /* dmu, in acc; then dx -= dmu / N */
    for (j = j0; j < j1; j++)
        acc[j] = dx[j];
    for (r = 1; r < N; r++)
        for (j = j0; j < j1; j++)
            acc[j] += dx[r * D + j];
    for (j = j0; j < j1; j++)
        acc[j] /= (double)N;
    for (r = 0; r < N; r++)
        for (j = j0; j < j1; j++)
            dx[r * D + j] -= acc[j];
}
