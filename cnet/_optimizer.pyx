# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled parameter updates (private; the public API is cnet.optimizer)."""
cimport numpy as cnp

cnp.import_array()

cdef extern from "optimizer.h" nogil:
    enum: CNET_SGD_MAXDIM
    void sgd_update_pd_gd_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gf_mf(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gf_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gd_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pd_gf_mf(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pd_gf_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)

ctypedef void (*sgd_kernel)(int ndim, const Py_ssize_t *shape, char *p,
                            const Py_ssize_t *ps, const char *g,
                            const Py_ssize_t *gs, double lr) noexcept nogil

MAXDIM = CNET_SGD_MAXDIM


def sgd_update(object p, object g, double lr, bint step_in_float64):
    """p -= lr * g in place, rounding exactly as NumPy does.

    Parameters
    ----------
    p : ndarray, float32 or float64, writeable, any shape and strides, IN/OUT
    g : ndarray, float32 or float64, same shape as p, not overlapping p unless
        it is p itself, IN
    lr : float
        The step size (converted to the dtype of lr * g).
    step_in_float64 : bool
        Whether NumPy computes ``lr * g`` in float64 (else in g's dtype, which
        must then be float32).
    """
    if not isinstance(p, cnp.ndarray) or not isinstance(g, cnp.ndarray):
        raise TypeError("p and g must be NumPy arrays")
    cdef cnp.ndarray pa = <cnp.ndarray>p
    cdef cnp.ndarray ga = <cnp.ndarray>g
    cdef bint p64 = p.dtype.num == cnp.NPY_DOUBLE
    cdef bint g64 = g.dtype.num == cnp.NPY_DOUBLE
    cdef sgd_kernel kernel
    cdef int ndim = pa.ndim
    if not (p64 or p.dtype.num == cnp.NPY_FLOAT):
        raise TypeError("p must be float32 or float64, got %s" % p.dtype)
    if not (g64 or g.dtype.num == cnp.NPY_FLOAT):
        raise TypeError("g must be float32 or float64, got %s" % g.dtype)
    if p.shape != g.shape:
        raise ValueError("p and g shapes differ: %s vs %s" % (p.shape, g.shape))
    if ndim > CNET_SGD_MAXDIM:
        raise ValueError("at most %d dimensions are supported" % CNET_SGD_MAXDIM)
    if not p.flags.writeable:
        raise ValueError("p is read-only")
    if g64 and not step_in_float64:
        raise ValueError("a float64 gradient gives a float64 step")
    if p64:
        if g64:
            kernel = sgd_update_pd_gd_md
        elif step_in_float64:
            kernel = sgd_update_pd_gf_md
        else:
            kernel = sgd_update_pd_gf_mf
    else:
        if g64:
            kernel = sgd_update_pf_gd_md
        elif step_in_float64:
            kernel = sgd_update_pf_gf_md
        else:
            kernel = sgd_update_pf_gf_mf
    cdef const Py_ssize_t *shape = <const Py_ssize_t *>cnp.PyArray_DIMS(pa)
    cdef const Py_ssize_t *ps = <const Py_ssize_t *>cnp.PyArray_STRIDES(pa)
    cdef const Py_ssize_t *gs = <const Py_ssize_t *>cnp.PyArray_STRIDES(ga)
    cdef char *pd = <char *>cnp.PyArray_DATA(pa)
    cdef const char *gd = <const char *>cnp.PyArray_DATA(ga)
    with nogil:
        kernel(ndim, shape, pd, ps, gd, gs, lr)


# --- Momentum, Nesterov, AdaGrad, RMSprop, Adam -------------------------------
# Each entry takes flat, contiguous, aligned views of one array and its state,
# of one dtype, checked by cnet.optimizer; n is their common length. The work
# is cut into fixed blocks spread over threads; every element is updated by
# one thread with the same arithmetic, so the result does not depend on the
# thread count.

from cython.parallel cimport prange
from cython cimport floating
from cnet._config cimport cnet_threads_for

cdef extern from "cnet_common.h":
    enum: CNET_PARALLEL_MIN

cdef extern from "optimizer.h" nogil:
    void momentum_update_f64(double *, const double *, double *, size_t, double, double)
    void momentum_update_f32(float *, const float *, float *, size_t, float, float)
    void nesterov_update_f64(double *, const double *, double *, size_t, double, double,
                             double, double)
    void nesterov_update_f32(float *, const float *, float *, size_t, float, float,
                             float, float)
    void adagrad_update_f64(double *, const double *, double *, size_t, double, double)
    void adagrad_update_f32(float *, const float *, float *, size_t, float, float)
    void rmsprop_update_f64(double *, const double *, double *, size_t, double, double,
                            double, double)
    void rmsprop_update_f32(float *, const float *, float *, size_t, float, float,
                            float, float)
    void adam_update_f64(double *, const double *, double *, double *, size_t, double,
                         double, double, double, int)
    void adam_update_f32(float *, const float *, float *, float *, size_t, float, float,
                         double, float, int)

# Elements per block: large enough that a block's loop dominates its dispatch.
cdef Py_ssize_t BLOCK = CNET_PARALLEL_MIN


# Which update: the op argument of update().
cdef enum:
    OP_MOMENTUM = 0
    OP_NESTEROV = 1
    OP_ADAGRAD = 2
    OP_RMSPROP = 3
    OP_ADAM = 4

MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = (OP_MOMENTUM, OP_NESTEROV, OP_ADAGRAD,
                                              OP_RMSPROP, OP_ADAM)


cdef void _update_block(int op, floating *p, const floating *g, floating *s1, floating *s2,
                        Py_ssize_t n, double c0, double c1, double c2, double c3,
                        bint wide) noexcept nogil:
    if floating is double:
        if op == OP_MOMENTUM:
            momentum_update_f64(p, g, s1, n, c0, c1)
        elif op == OP_NESTEROV:
            nesterov_update_f64(p, g, s1, n, c0, c1, c2, c3)
        elif op == OP_ADAGRAD:
            adagrad_update_f64(p, g, s1, n, c0, c1)
        elif op == OP_RMSPROP:
            rmsprop_update_f64(p, g, s1, n, c0, c1, c2, c3)
        else:
            adam_update_f64(p, g, s1, s2, n, c0, c1, c2, c3, wide)
    else:
        if op == OP_MOMENTUM:
            momentum_update_f32(p, g, s1, n, <float>c0, <float>c1)
        elif op == OP_NESTEROV:
            nesterov_update_f32(p, g, s1, n, <float>c0, <float>c1, <float>c2, <float>c3)
        elif op == OP_ADAGRAD:
            adagrad_update_f32(p, g, s1, n, <float>c0, <float>c1)
        elif op == OP_RMSPROP:
            rmsprop_update_f32(p, g, s1, n, <float>c0, <float>c1, <float>c2, <float>c3)
        else:
            adam_update_f32(p, g, s1, s2, n, <float>c0, <float>c1, c2, <float>c3, wide)


def update(int op, floating[::1] p, const floating[::1] g, floating[::1] s1,
           floating[::1] s2, double c0, double c1, double c2, double c3, bint wide):
    """One optimizer's update of p in place (see optimizer_impl.h).

    op : MOMENTUM, NESTEROV, ADAGRAD, RMSPROP or ADAM
    p : parameters, IN/OUT; g : gradients, IN; s1, s2 : state, IN/OUT (s2
        only for Adam: m is s1, v is s2; the others pass s1 twice)
    c0..c3 : the kernel's scalars in its order (momentum, lr / mm, c,
        momentum, lr / lr, eps / decay, keep, lr, eps / k1, k2, lr_t, eps),
        rounded to p's dtype here (lr_t is kept in double for a wide step)
    wide : Adam's step formed in double (float32 arrays)
    """
    cdef Py_ssize_t n = p.shape[0], nb = (n + BLOCK - 1) // BLOCK, b, i0, cnt
    cdef int nt = cnet_threads_for(<size_t>n, CNET_PARALLEL_MIN)
    if op < OP_MOMENTUM or op > OP_ADAM:
        raise ValueError("unknown optimizer op %d" % op)
    if g.shape[0] != n or s1.shape[0] != n or s2.shape[0] != n:
        raise ValueError("p, g and the state must have one length")
    if n == 0:
        return
    with nogil:
        for b in prange(nb, num_threads=nt, schedule="static"):
            i0 = b * BLOCK
            cnt = min(BLOCK, n - i0)
            _update_block(op, &p[i0], &g[i0], &s1[i0], &s2[i0], cnt, c0, c1, c2, c3, wide)
