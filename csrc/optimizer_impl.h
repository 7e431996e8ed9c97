/* Update kernels of the book's optimizers after SGD, compiled once per
 * element type: the includer defines T (parameter, gradient and state type)
 * and OPT(name) (appends the type's suffix).
 *
 * Every kernel walks n contiguous elements once, in place, and rounds each
 * step of the book's NumPy line to T exactly where NumPy rounds it (each
 * scalar arrives already as NumPy converts it: lr for lr * g is (T)lr, ...).
 * p parameters IN/OUT, g gradients IN, v / h / m state IN/OUT; all n long,
 * aligned for T and not overlapping (except g, which may be p's own memory
 * only for SGD, not here).
 */

/* Momentum: v = momentum * v - lr * g; p += v. */
CNET_DISPATCH void OPT(momentum_update)(T *CNET_RESTRICT p, const T *CNET_RESTRICT g,
                                        T *CNET_RESTRICT v, size_t n, T momentum, T lr)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const T vi = momentum * v[i] - lr * g[i];
        v[i] = vi;
        p[i] += vi;
    }
}

/* Nesterov: p += mm * v; p -= c * g; v *= momentum; v -= lr * g, with
 * mm = momentum * momentum and c = (1 + momentum) * lr (formed by Python). */
CNET_DISPATCH void OPT(nesterov_update)(T *CNET_RESTRICT p, const T *CNET_RESTRICT g,
                                        T *CNET_RESTRICT v, size_t n, T mm, T c,
                                        T momentum, T lr)
{
    size_t i;
    for (i = 0; i < n; i++) {
        T pi = p[i] + mm * v[i];
        p[i] = pi - c * g[i];
        v[i] = v[i] * momentum - lr * g[i];
    }
}

/* AdaGrad: h += g * g; p -= lr * g / (sqrt(h) + eps). */
CNET_DISPATCH void OPT(adagrad_update)(T *CNET_RESTRICT p, const T *CNET_RESTRICT g,
                                       T *CNET_RESTRICT h, size_t n, T lr, T eps)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const T hi = h[i] + g[i] * g[i];
        h[i] = hi;
        p[i] -= lr * g[i] / (OPT_SQRT(hi) + eps);
    }
}

/* RMSprop: h *= decay; h += keep * g * g; p -= lr * g / (sqrt(h) + eps),
 * with keep = 1 - decay (formed by Python). */
CNET_DISPATCH void OPT(rmsprop_update)(T *CNET_RESTRICT p, const T *CNET_RESTRICT g,
                                       T *CNET_RESTRICT h, size_t n, T decay, T keep,
                                       T lr, T eps)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const T hi = h[i] * decay + keep * g[i] * g[i];
        h[i] = hi;
        p[i] -= lr * g[i] / (OPT_SQRT(hi) + eps);
    }
}

/* Adam: m += k1 * (g - m); v += k2 * (g * g - v);
 * p -= lr_t * m / (sqrt(v) + eps), with k1 = 1 - beta1, k2 = 1 - beta2. The
 * step lr_t * m / (...) is formed in double when wide is set (NumPy >= 2
 * multiplies a float32 array by Python's float64 lr_t in float64), else in T. */
CNET_DISPATCH void OPT(adam_update)(T *CNET_RESTRICT p, const T *CNET_RESTRICT g,
                                    T *CNET_RESTRICT m, T *CNET_RESTRICT v, size_t n,
                                    T k1, T k2, double lr_t, T eps, int wide)
{
    size_t i;
    if (wide) {
        for (i = 0; i < n; i++) {
            const T mi = m[i] + k1 * (g[i] - m[i]);
            const T vi = v[i] + k2 * (g[i] * g[i] - v[i]);
            m[i] = mi;
            v[i] = vi;
            p[i] = (T)((double)p[i] - lr_t * (double)mi / (double)(OPT_SQRT(vi) + eps));
        }
    } else {
        const T lr_tt = (T)lr_t;
        for (i = 0; i < n; i++) {
            const T mi = m[i] + k1 * (g[i] - m[i]);
            const T vi = v[i] + k2 * (g[i] * g[i] - v[i]);
            m[i] = mi;
            v[i] = vi;
            p[i] -= lr_tt * mi / (OPT_SQRT(vi) + eps);
        }
    }
}
