/* Parameter updates of the book's optimizers, bit-identical to NumPy's
 *     params[k] -= lr * grads[k]
 * NumPy first forms lr * g in the dtype M it picks for that product, then
 * subtracts in the common dtype S of the parameter and the product, then rounds
 * to the parameter's dtype P. Each variant below does exactly those roundings.
 * Contracting lr*g and the subtraction into one fused multiply-add would skip
 * the rounding of lr*g, so contraction is off in this file. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cnet_common.h"
#include "optimizer.h"

/* p[i] = (P)((S)p[i] - (S)(M)(lr * g[i])) over an n-d strided walk: shape (ndim),
 * byte strides ps (p, IN/OUT) and gs (g, IN); the last axis is the inner loop. */
#define CNET_SGD_KERNEL(NAME, P, G, M, S)                                             \
    void NAME(int ndim, const ptrdiff_t *shape, char *p, const ptrdiff_t *ps,         \
              const char *g, const ptrdiff_t *gs, double lr)                          \
    {                                                                                 \
        ptrdiff_t idx[CNET_SGD_MAXDIM];                                               \
        const M lr_m = (M)lr;                                                         \
        ptrdiff_t n, i;                                                               \
        int d;                                                                        \
        if (ndim == 0) {                                                              \
            const M step = lr_m * (M)*(const G *)g;                                   \
            *(P *)p = (P)((S)*(P *)p - (S)step);                                      \
            return;                                                                   \
        }                                                                             \
        for (d = 0; d < ndim; d++) {                                                  \
            if (shape[d] == 0)                                                        \
                return;                                                               \
            idx[d] = 0;                                                               \
        }                                                                             \
        n = shape[ndim - 1];                                                          \
        for (;;) {                                                                    \
            char *pp = p;                                                             \
            const char *gg = g;                                                       \
            const ptrdiff_t pi = ps[ndim - 1], gi = gs[ndim - 1];                     \
            for (d = 0; d < ndim - 1; d++) {                                          \
                pp += idx[d] * ps[d];                                                 \
                gg += idx[d] * gs[d];                                                 \
            }                                                                         \
            if (pi == (ptrdiff_t)sizeof(P) && gi == (ptrdiff_t)sizeof(G)) {           \
                P *CNET_RESTRICT pv = (P *)pp;                                        \
                const G *CNET_RESTRICT gv = (const G *)gg;                            \
                for (i = 0; i < n; i++) {                                             \
                    const M step = lr_m * (M)gv[i];                                   \
                    pv[i] = (P)((S)pv[i] - (S)step);                                  \
                }                                                                     \
            } else {                                                                  \
                for (i = 0; i < n; i++) {                                             \
                    P *pv = (P *)(pp + i * pi);                                       \
                    const M step = lr_m * (M) * (const G *)(gg + i * gi);             \
                    *pv = (P)((S)*pv - (S)step);                                      \
                }                                                                     \
            }                                                                         \
            for (d = ndim - 2; d >= 0; d--) {                                         \
                if (++idx[d] < shape[d])                                              \
                    break;                                                            \
                idx[d] = 0;                                                           \
            }                                                                         \
            if (d < 0)                                                                \
                return;                                                               \
        }                                                                             \
    }

CNET_SGD_KERNEL(sgd_update_pd_gd_md, double, double, double, double)
CNET_SGD_KERNEL(sgd_update_pf_gf_mf, float, float, float, float)
CNET_SGD_KERNEL(sgd_update_pf_gf_md, float, float, double, double)
CNET_SGD_KERNEL(sgd_update_pf_gd_md, float, double, double, double)
CNET_SGD_KERNEL(sgd_update_pd_gf_mf, double, float, float, double)
CNET_SGD_KERNEL(sgd_update_pd_gf_md, double, float, double, double)

CNET_DISPATCH void decay_gradient_f64(const double *g, const double *W, double lam,
                                      double *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = g[i] + lam * W[i];
}

CNET_DISPATCH int decay_keeps_gradient_f64(const double *g, const double *W, double lam,
                                           size_t n)
{
    /* decay_gradient's sum, compared with g on the bits (so -0.0 differs from
     * 0.0 and a NaN from another): one branch-free pass that vectorizes. */
    uint64_t differ = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        const double sum = g[i] + lam * W[i];
        uint64_t sb, gb;
        memcpy(&sb, &sum, sizeof sb);
        memcpy(&gb, g + i, sizeof gb);
        differ |= sb ^ gb;
    }
    return differ == 0;
}

#include <math.h>

#define T double
#define OPT(name) name##_f64
#define OPT_SQRT sqrt
#include "optimizer_impl.h"
#undef T
#undef OPT
#undef OPT_SQRT

#define T float
#define OPT(name) name##_f32
#define OPT_SQRT sqrtf
#include "optimizer_impl.h"
#undef T
#undef OPT
#undef OPT_SQRT
