/* In-place parameter updates bit-identical to NumPy's params[k] -= lr * grads[k].
 *
 * Names: sgd_update_p<P>_g<G>_m<M> with P the parameter dtype, G the gradient
 * dtype and M the dtype NumPy computes lr * g in (f float32, d float64); the
 * subtraction runs in the wider of P and M. Arguments: ndim (<= CNET_SGD_MAXDIM,
 * 0 for a scalar), shape (ndim), p the parameter's data with byte strides ps
 * (IN/OUT), g the gradient's data with byte strides gs (IN), lr the step.
 * p and g must not overlap unless they are the very same elements.
 */
#ifndef CNET_OPTIMIZER_H
#define CNET_OPTIMIZER_H

#include <stddef.h>

#define CNET_SGD_MAXDIM 64

#define CNET_SGD_DECLARE(NAME)                                                      \
    void NAME(int ndim, const ptrdiff_t *shape, char *p, const ptrdiff_t *ps,       \
              const char *g, const ptrdiff_t *gs, double lr);

CNET_SGD_DECLARE(sgd_update_pd_gd_md)
CNET_SGD_DECLARE(sgd_update_pf_gf_mf)
CNET_SGD_DECLARE(sgd_update_pf_gf_md)
CNET_SGD_DECLARE(sgd_update_pf_gd_md)
CNET_SGD_DECLARE(sgd_update_pd_gf_mf)
CNET_SGD_DECLARE(sgd_update_pd_gf_md)

#undef CNET_SGD_DECLARE

/* The other five optimizers (contracts in optimizer_impl.h); _f64 for
 * float64 arrays, _f32 for float32. */
void momentum_update_f64(double *p, const double *g, double *v, size_t n, double momentum,
                         double lr);
void momentum_update_f32(float *p, const float *g, float *v, size_t n, float momentum,
                         float lr);
void nesterov_update_f64(double *p, const double *g, double *v, size_t n, double mm,
                         double c, double momentum, double lr);
void nesterov_update_f32(float *p, const float *g, float *v, size_t n, float mm, float c,
                         float momentum, float lr);
void adagrad_update_f64(double *p, const double *g, double *h, size_t n, double lr,
                        double eps);
void adagrad_update_f32(float *p, const float *g, float *h, size_t n, float lr, float eps);
void rmsprop_update_f64(double *p, const double *g, double *h, size_t n, double decay,
                        double keep, double lr, double eps);
void rmsprop_update_f32(float *p, const float *g, float *h, size_t n, float decay,
                        float keep, float lr, float eps);
void adam_update_f64(double *p, const double *g, double *m, double *v, size_t n, double k1,
                     double k2, double lr_t, double eps, int wide);
void adam_update_f32(float *p, const float *g, float *m, float *v, size_t n, float k1,
                     float k2, double lr_t, float eps, int wide);

/* The weight-decay gradient MultiLayerNet hands out: out[i] OUT = g[i] +
 * lam * W[i], the product rounded before the sum (NumPy's dW + lam * W);
 * g, W (n) IN. */
void decay_gradient_f64(const double *g, const double *W, double lam, double *out, size_t n);

/* 1 when every g[i] + lam * W[i] (decay_gradient's sum) has g[i]'s bits,
 * else 0: at lam = 0 the sum is g unless W holds inf or NaN (0 * inf is
 * NaN) or g holds -0.0 beside a W of sign + (-0.0 + 0.0 is 0.0). g, W (n) IN. */
int decay_keeps_gradient_f64(const double *g, const double *W, double lam, size_t n);

#endif
